package host

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/syncer"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

func TestLocalStorageSurvivesReopeningItsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rt", "local.cbor")
	s, err := OpenLocalStorage(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string][]byte{"a": []byte("1"), "empty": {}, "gone": []byte("x")} {
		if err := s.Set([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set([]byte("gone"), nil); err != nil {
		t.Fatal(err)
	}
	r, err := OpenLocalStorage(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		want []byte
	}{{"a", []byte("1")}, {"empty", []byte{}}, {"gone", nil}, {"never", nil}} {
		got := r.Get([]byte(c.key))
		if !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("Get(%q) = %#v, want %#v", c.key, got, c.want)
		}
	}
}

func TestLocalStorageRefusesWhatBreaksItsCaps(t *testing.T) {
	s := NewMemoryLocalStorage()
	if err := s.Set(make([]byte, MaxLocalStorageKeySize+1), nil); !errors.Is(err, ErrLocalStorageLimit) {
		t.Errorf("oversized key: %v", err)
	}
	if err := s.Set([]byte("k"), make([]byte, MaxLocalStorageValueSize+1)); !errors.Is(err, ErrLocalStorageLimit) {
		t.Errorf("oversized value: %v", err)
	}
	var i int
	for ; ; i++ {
		err := s.Set([]byte{byte(i), byte(i >> 8)}, make([]byte, MaxLocalStorageValueSize))
		if errors.Is(err, ErrLocalStorageLimit) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if i == 0 || i > MaxLocalStorageSize/MaxLocalStorageValueSize {
		t.Errorf("the store took %d full values", i)
	}
	// Replacing a value with a smaller one is always possible.
	if err := s.Set([]byte{0, 0}, []byte("small")); err != nil {
		t.Errorf("shrinking a value: %v", err)
	}
}

func TestTheRequestRouterServesStorageSyncWithProofs(t *testing.T) {
	ctx := context.Background()
	tree := mkvs.New()
	if err := tree.Insert(ctx, []byte("foo"), []byte("bar")); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := tree.Commit(ctx, testRuntimeID, 1); err != nil {
		t.Fatal(err)
	}
	root := tree.Root()
	r := &RequestRouter{RuntimeStorage: tree}
	resp, err := r.Handle(ctx, &messages.Body{HostStorageSyncRequest: &messages.HostStorageSyncRequest{
		SyncGet: &syncer.GetRequest{Tree: syncer.TreeID{Root: root, Position: root.Hash}, Key: []byte("foo")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := syncer.VerifyProof(root.Hash, &resp.HostStorageSyncResponse.Proof); err != nil {
		t.Errorf("the proof does not verify: %v", err)
	}
	for _, body := range []*messages.Body{
		{HostStorageSyncRequest: &messages.HostStorageSyncRequest{Endpoint: messages.StorageEndpointConsensus, SyncGet: &syncer.GetRequest{}}},
		{HostLocalStorageGetRequest: &messages.HostLocalStorageGetRequest{Key: []byte("k")}},
		{RuntimePingRequest: &messages.RuntimePingRequest{}},
	} {
		if _, err := r.Handle(ctx, body); !errors.Is(err, protocol.ErrMethodNotSupported) {
			t.Errorf("%s = %v, want ErrMethodNotSupported", body.Kind(), err)
		}
	}
}

func TestRuntimeOutputIsLoggedLineByLineWithCappedLines(t *testing.T) {
	var buf bytes.Buffer
	l := newLineLogger(slog.New(slog.NewTextHandler(&buf, nil)), "stderr")
	_, _ = l.Write([]byte("first\nsec"))
	_, _ = l.Write([]byte("ond\n" + strings.Repeat("x", 2*maxOutputLine+10) + "\n"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("logged %d records, want 5:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "runtime_output=first") || !strings.Contains(lines[1], "runtime_output=second") {
		t.Errorf("records:\n%s", buf.String())
	}
}
