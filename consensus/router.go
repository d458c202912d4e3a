package consensus

import (
	"fmt"

	"github.com/atoll-project/atoll/consensus/transaction"
)

// router knows the applications in order and what each owns. It is immutable after
// newRouter and shared by all Contexts of a mux.
type router struct {
	apps      []Application
	byName    map[string]Application
	byMethod  map[transaction.MethodName]Application
	byMessage map[string][]Application
	auth      TxAuthenticator
	epochs    EpochSource
}

func newRouter(apps []Application) (*router, error) {
	r := &router{
		byName:    make(map[string]Application),
		byMethod:  make(map[transaction.MethodName]Application),
		byMessage: make(map[string][]Application),
	}
	for _, app := range apps {
		name := app.Name()
		if orderOf(name) < 0 {
			return nil, fmt.Errorf("consensus: unknown application %q (want one of %v)", name, AppOrder)
		}
		if _, dup := r.byName[name]; dup {
			return nil, fmt.Errorf("consensus: application %q given twice", name)
		}
		r.byName[name] = app
	}
	for _, name := range AppOrder {
		if app, ok := r.byName[name]; ok {
			r.apps = append(r.apps, app)
		}
	}
	for _, app := range r.apps {
		for _, m := range app.Methods() {
			if err := m.Validate(); err != nil {
				return nil, fmt.Errorf("consensus: application %q: %w", app.Name(), err)
			}
			if m.Service() != app.Name() {
				return nil, fmt.Errorf("consensus: application %q owns method %q of another service", app.Name(), m)
			}
			if _, dup := r.byMethod[m]; dup {
				return nil, fmt.Errorf("consensus: method %q registered twice", m)
			}
			r.byMethod[m] = app
		}
		for _, kind := range app.Messages() {
			r.byMessage[kind] = append(r.byMessage[kind], app)
		}
		if a, ok := app.(TxAuthenticator); ok {
			if r.auth != nil {
				return nil, fmt.Errorf("consensus: two transaction authenticators (%q)", app.Name())
			}
			r.auth = a
		}
		if e, ok := app.(EpochSource); ok {
			if r.epochs != nil {
				return nil, fmt.Errorf("consensus: two epoch sources (%q)", app.Name())
			}
			r.epochs = e
		}
	}
	return r, nil
}

func orderOf(name string) int {
	for i, n := range AppOrder {
		if n == name {
			return i
		}
	}
	return -1
}

func (r *router) publish(ctx *Context, msg Message) ([]any, error) {
	handlers := r.byMessage[msg.MessageKind()]
	if len(handlers) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoHandler, msg.MessageKind())
	}
	results := make([]any, 0, len(handlers))
	for _, app := range handlers {
		res, err := app.HandleMessage(ctx, msg)
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	return results, nil
}
