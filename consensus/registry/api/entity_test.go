package api

import (
	"errors"
	"fmt"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	coded "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/signature"
)

func TestEntityValidateBasic(t *testing.T) {
	id := testKey(t, "entity")
	for _, tc := range []struct {
		name string
		e    Entity
		want error
	}{
		{"an entity with distinct nodes is accepted", Entity{ID: id, Nodes: []signature.PublicKey{testKey(t, "a"), testKey(t, "b")}}, nil},
		{"an entity with no nodes is accepted", Entity{ID: id}, nil},
		{"a zero entity key is rejected", Entity{}, ErrInvalidArgument},
		{"a node listed twice is rejected", Entity{ID: id, Nodes: []signature.PublicKey{testKey(t, "a"), testKey(t, "a")}}, ErrInvalidArgument},
		{"the entity's own key as a node is rejected", Entity{ID: id, Nodes: []signature.PublicKey{id}}, ErrInvalidArgument},
		{"a zero node key is rejected", Entity{ID: id, Nodes: []signature.PublicKey{{}}}, ErrInvalidArgument},
		{"more than MaxEntityNodes nodes are rejected", Entity{ID: id, Nodes: make([]signature.PublicKey, MaxEntityNodes+1)}, ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) { assertRuleError(t, tc.e.ValidateBasic(), tc.want, nil) })
	}
}

func TestSignedEntityOpensOnlyInItsContextAndByItsKey(t *testing.T) {
	e := &Entity{ID: testKey(t, "entity"), Nodes: []signature.PublicKey{testKey(t, "node")}}
	bctx := RegisterEntitySignatureContext.ForChain(testChain)
	s, err := SignEntity(testSigner(t, "entity"), bctx, e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenEntity(s, bctx)
	if err != nil || !got.HasNode(testKey(t, "node")) || got.HasNode(testKey(t, "x")) {
		t.Fatalf("OpenEntity = %+v, %v", got, err)
	}
	if _, err := OpenEntity(s, GenesisEntitySignatureContext.Unbound()); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("genesis context: %v", err)
	}
	if _, err := SignEntity(testSigner(t, "node"), bctx, e); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("SignEntity with another key: %v", err)
	}
	forged, err := signature.SignBlob(testSigner(t, "node"), bctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEntity(forged, bctx); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("entity signed by another key: %v", err)
	}
	blob := append(cbor.Marshal(e), 0x00)
	sig, err := signature.Sign(testSigner(t, "entity"), bctx, blob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEntity(&signature.Signed{Blob: blob, Signature: *sig}, bctx); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("trailing bytes: %v", err)
	}
}

func TestRegistryErrorsSurviveTheWire(t *testing.T) {
	for _, sentinel := range []error{ErrInvalidRuntime, ErrInvalidDeployments, ErrVersionReused, ErrNotAdmitted, ErrMaintenanceNotPaid} {
		wrapped := fmt.Errorf("%w: detail", sentinel)
		w := coded.ToWire(wrapped)
		if w.Module != ModuleName || w.Code == 0 {
			t.Errorf("%v: wire %+v", sentinel, w)
		}
		if back := coded.FromWire(w); !errors.Is(back, sentinel) {
			t.Errorf("%v did not come back from the wire", sentinel)
		}
	}
}
