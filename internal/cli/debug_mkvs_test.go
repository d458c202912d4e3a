package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/internal/cli"
)

func runMKVSRoot(t *testing.T, input string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(context.Background(), []string{"debug", "mkvs", "root"}, cli.Streams{
		In: strings.NewReader(input), Out: &out, Err: &errOut,
	})
	return code, out.String(), errOut.String()
}

func TestDebugMKVSRootPrintsTheRootOfTheInput(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
	}{
		{"no input gives the empty root", "", "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a\n"},
		{"one pair gives its leaf", `{"key":"666f6f","value":"626172"}` + "\n",
			"db67c0572006673b488342a45e6590a75e8919265e6da706c80c6b2776017aa7\n"},
		{"foo and moo give the known root", `{"key":"666f6f","value":"626172"}` + "\n\n" + `{"key":"6d6f6f","value":"666f6f"}`,
			"e627581db43e18410a52793e662e4f21ae6a4fca14e16915a85ec4c3e3e41a13\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runMKVSRoot(t, tc.input)
			if code != 0 || out != tc.want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and %q", code, out, errOut, tc.want)
			}
		})
	}
}

func TestDebugMKVSRootNamesTheBadLine(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
	}{
		{"bad hex", `{"key":"666f6f","value":"626172"}` + "\n" + `{"key":"zz","value":""}`, "line 2: key"},
		{"not JSON", "\n\nnot json\n", "line 3: bad JSON"},
		{"a missing value", `{"key":"00"}`, "line 1:"},
		{"an unknown field", `{"key":"00","value":"","extra":1}`, "line 1: bad JSON"},
		{"a key over the limit", `{"key":"` + strings.Repeat("00", 8193) + `","value":""}`, "line 1: mkvs: key too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runMKVSRoot(t, tc.input)
			if code == 0 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want a failure mentioning %q", code, out, errOut, tc.want)
			}
		})
	}
}
