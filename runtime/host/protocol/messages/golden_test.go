package messages

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from the current encoders")

const goldenPath = "testdata/golden.txt"

// goldenMessages wraps every sample body in a message with a fixed ID, in kind order.
func goldenMessages() (kinds []string, msgs map[string]*Message) {
	samples := sampleBodies()
	msgs = make(map[string]*Message, len(samples))
	for kind, body := range samples {
		mt := MessageTypeResponse
		if body.IsRequest() {
			mt = MessageTypeRequest
		}
		msgs[kind] = &Message{ID: 0x1234, MessageType: mt, Body: *body}
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	return kinds, msgs
}

func writeGolden(t *testing.T) {
	kinds, msgs := goldenMessages()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Runtime Host Protocol golden messages. A change here is a wire change: bump\n")
	fmt.Fprintf(&b, "# messages.ProtocolVersion and regenerate with go test -run Golden -update.\n")
	fmt.Fprintf(&b, "version %s\n", ProtocolVersion)
	for _, kind := range kinds {
		fmt.Fprintf(&b, "%s %x\n", kind, EncodeMessage(msgs[kind]))
	}
	if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenPath, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatalf("opening golden vectors: %v", err)
	}
	defer f.Close()
	var ver string
	vectors := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("golden line %q has no value", line)
		}
		if name == "version" {
			ver = value
			continue
		}
		raw, err := hex.DecodeString(value)
		if err != nil {
			t.Fatalf("golden %s: %v", name, err)
		}
		vectors[name] = raw
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ver, vectors
}

func TestMessagesEncodeExactlyAsTheGoldenVectors(t *testing.T) {
	if *update {
		writeGolden(t)
	}
	ver, vectors := readGolden(t)
	if ver != ProtocolVersion.String() {
		t.Errorf("golden vectors are for protocol %s, the package speaks %s: regenerate them", ver, ProtocolVersion)
	}
	kinds, msgs := goldenMessages()
	for _, kind := range kinds {
		want, ok := vectors[kind]
		if !ok {
			t.Errorf("%s: no golden vector (a new message is a wire change: bump the version)", kind)
			continue
		}
		if got := EncodeMessage(msgs[kind]); !bytes.Equal(got, want) {
			t.Errorf("%s encodes as\n%x\nwant\n%x\n(a wire change: bump messages.ProtocolVersion)", kind, got, want)
		}
		m, err := DecodeMessage(want, len(want))
		if err != nil {
			t.Errorf("%s: golden vector does not decode: %v", kind, err)
			continue
		}
		if got := EncodeMessage(m); !bytes.Equal(got, want) {
			t.Errorf("%s: golden vector does not re-encode to itself", kind)
		}
	}
	for name := range vectors {
		if _, ok := msgs[name]; !ok {
			t.Errorf("golden vector %s names no message kind (one was removed: bump the version)", name)
		}
	}
}
