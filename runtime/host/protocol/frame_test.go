package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

func TestReadFrameReadsBackWhatWriteFrameWrote(t *testing.T) {
	var buf bytes.Buffer
	payloads := [][]byte{{0x01}, bytes.Repeat([]byte{0xab}, 1000), bytes.Repeat([]byte{0xcd}, 4096)}
	for _, p := range payloads {
		if err := WriteFrame(&buf, p, 4096); err != nil {
			t.Fatalf("WriteFrame(%d bytes) = %v", len(p), err)
		}
	}
	for _, want := range payloads {
		got, err := ReadFrame(&buf, 4096)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadFrame() = %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
	}
	if _, err := ReadFrame(&buf, 4096); err != io.EOF { // a clean end is exactly io.EOF
		t.Fatalf("ReadFrame() at the end = %v, want io.EOF", err)
	}
}

// TestReadFrameGivesEveryFrameItsOwnBuffer backs the connection's handing of payloads to
// DecodeMessage, whose messages share the payload's memory: reading later frames, through the
// same buffered reader, leaves an earlier payload untouched.
func TestReadFrameGivesEveryFrameItsOwnBuffer(t *testing.T) {
	var buf bytes.Buffer
	for _, b := range []byte{0x11, 0x22, 0x33} {
		if err := WriteFrame(&buf, bytes.Repeat([]byte{b}, 100), 0); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReaderSize(&buf, 64)
	first, err := ReadFrame(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		next, err := ReadFrame(r, 0)
		if err != nil {
			t.Fatal(err)
		}
		if &next[0] == &first[0] || !bytes.Equal(first, bytes.Repeat([]byte{0x11}, 100)) {
			t.Fatal("a later frame reused the first frame's buffer")
		}
	}
}

func TestWriteFrameRefusesEmptyAndOversizedPayloads(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, nil, 0); !errors.Is(err, ErrEmptyFrame) {
		t.Errorf("WriteFrame(empty) = %v, want ErrEmptyFrame", err)
	}
	if err := WriteFrame(&buf, make([]byte, 11), 10); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("WriteFrame(11 bytes, cap 10) = %v, want ErrFrameTooLarge", err)
	}
	if buf.Len() != 0 {
		t.Errorf("refused frames wrote %d bytes", buf.Len())
	}
}

func TestReadFrameRejectsBrokenFrames(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"a zero length", []byte{0, 0, 0, 0}, ErrEmptyFrame},
		{"a length over the cap", []byte{0, 0, 0x10, 0x01}, ErrFrameTooLarge},
		{"a cut length", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"a cut payload", []byte{0, 0, 0, 3, 1, 2}, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ReadFrame(bytes.NewReader(c.data), 4096); !errors.Is(err, c.want) {
				t.Fatalf("ReadFrame() = %v, want %v", err, c.want)
			}
		})
	}
}

func TestReadFrameChecksTheCapBeforeAllocatingTheClaimedSize(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 16 {
		if _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), DefaultMaxFrameSize); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("ReadFrame() = %v, want ErrFrameTooLarge", err)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("refusing 16 frames of 4 GiB allocated %d bytes", grew)
	}
}

func FuzzReadFrame(f *testing.F) {
	const limit = 1 << 16
	for _, body := range []*messages.Body{ping(), empty(), {HostLocalStorageGetRequest: &messages.HostLocalStorageGetRequest{Key: []byte("k")}}} {
		f.Add(frame(messages.EncodeMessage(request(1, body))))
	}
	f.Add(append(frame([]byte{0xa0}), frame([]byte{0xa1, 0x60, 0x60})...))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 5, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var rewritten bytes.Buffer
		for {
			payload, err := ReadFrame(r, limit)
			if err != nil {
				if len(payload) != 0 {
					t.Fatalf("ReadFrame() returned %d bytes with error %v", len(payload), err)
				}
				break
			}
			if len(payload) == 0 || len(payload) > limit {
				t.Fatalf("ReadFrame() returned a payload of %d bytes, cap %d", len(payload), limit)
			}
			if err := WriteFrame(&rewritten, payload, limit); err != nil {
				t.Fatalf("WriteFrame() of a frame just read = %v", err)
			}
		}
		// The frames read are exactly a prefix of the input.
		if !bytes.HasPrefix(data, rewritten.Bytes()) {
			t.Fatalf("frames read do not rewrite to a prefix of the input")
		}
	})
}
