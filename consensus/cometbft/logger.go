package cometbft

import (
	"context"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// LevelTrace is the slog level of CometBFT's debug messages, below slog's Debug: they are
// many per block and rarely wanted.
const LevelTrace = slog.LevelDebug - 4

// slogAdapter is CometBFT's logger on top of slog. CometBFT's info messages (several per
// block) go to slog's Debug level, its debug messages to LevelTrace and its errors to Error.
// CometBFT's own "module" key becomes Atoll's module "cometbft/<module>".
type slogAdapter struct {
	parent *slog.Logger // without a module key
	module string
	attrs  []any
	l      *slog.Logger // parent with module and attrs
}

func newLogger(parent *slog.Logger) cmtlog.Logger {
	return newSlogAdapter(parent, "cometbft", nil)
}

func newSlogAdapter(parent *slog.Logger, module string, attrs []any) *slogAdapter {
	args := append([]any{"module", module}, attrs...)
	return &slogAdapter{parent: parent, module: module, attrs: attrs, l: parent.With(args...)}
}

func (a *slogAdapter) log(level slog.Level, msg string, keyvals []any) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return
	}
	a.l.Log(ctx, level, msg, keyvals...)
}

func (a *slogAdapter) Debug(msg string, keyvals ...any) { a.log(LevelTrace, msg, keyvals) }
func (a *slogAdapter) Info(msg string, keyvals ...any)  { a.log(slog.LevelDebug, msg, keyvals) }
func (a *slogAdapter) Error(msg string, keyvals ...any) {
	level := slog.LevelError
	if benignError(msg) {
		level = slog.LevelDebug
	}
	a.log(level, msg, keyvals)
}

// benignError reports whether CometBFT logs msg as an error in the normal course of things.
func benignError(msg string) bool {
	switch msg {
	case "Stopped accept routine, as transport is closed": // every stop
		return true
	}
	return false
}

func (a *slogAdapter) With(keyvals ...any) cmtlog.Logger {
	module := a.module
	attrs := append([]any(nil), a.attrs...)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 < len(keyvals) {
			if k, ok := keyvals[i].(string); ok && k == "module" {
				if m, ok := keyvals[i+1].(string); ok {
					module = "cometbft/" + m
					continue
				}
			}
			attrs = append(attrs, keyvals[i], keyvals[i+1])
		} else {
			attrs = append(attrs, keyvals[i])
		}
	}
	return newSlogAdapter(a.parent, module, attrs)
}
