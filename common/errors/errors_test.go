package errors

import (
	stderrors "errors"
	"fmt"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

var (
	errTestFirst  = New("errors-test", 1, "first failure")
	errTestSecond = New("errors-test", 2, "second failure")
	errOtherMod   = New("errors-test-other", 1, "failure elsewhere")
)

func TestRegisteredErrorsAreFoundByTheirPair(t *testing.T) {
	cases := []struct {
		module string
		code   uint32
		want   *Error
	}{
		{"errors-test", 1, errTestFirst},
		{"errors-test", 2, errTestSecond},
		{"errors-test-other", 1, errOtherMod},
	}
	for _, c := range cases {
		got, ok := Lookup(c.module, c.code)
		if !ok || got != c.want {
			t.Errorf("Lookup(%q, %d) = %v, %v", c.module, c.code, got, ok)
		}
	}
	if _, ok := Lookup("errors-test", 3); ok {
		t.Error("Lookup found an unregistered code")
	}
	if errTestFirst.Error() != "errors-test: first failure" || errTestFirst.Module() != "errors-test" ||
		errTestFirst.Code() != 1 || errTestFirst.Message() != "first failure" {
		t.Errorf("accessors: %q %q %d %q", errTestFirst, errTestFirst.Module(), errTestFirst.Code(), errTestFirst.Message())
	}
}

func TestBadRegistrationsPanic(t *testing.T) {
	cases := []struct {
		name         string
		module       string
		code         uint32
		wantInString string
	}{
		{"a duplicate pair", "errors-test", 1, "registered twice"},
		{"code zero", "errors-test", 0, "reserved"},
		{"an empty module", "", 5, "empty module"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.wantInString) {
					t.Fatalf("panic %v, want one mentioning %q", r, c.wantInString)
				}
			}()
			New(c.module, c.code, "x")
		})
	}
}

// roundTrip sends err over the wire: to its wire form, CBOR-encoded and decoded, and back.
func roundTrip(t *testing.T, err error) error {
	t.Helper()
	var w Wire
	if e := cbor.UnmarshalCanonical(cbor.Marshal(ToWire(err)), &w); e != nil {
		t.Fatal(e)
	}
	return FromWire(w)
}

func TestWireRoundTripsKeepIdentityAndMessage(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		wantIs     error
		wantModule string
		wantCode   uint32
		wantText   string
	}{
		{"a sentinel", errTestFirst, errTestFirst, "errors-test", 1, "errors-test: first failure"},
		{"a wrapped sentinel", fmt.Errorf("node 7: %w", errTestSecond), errTestSecond, "errors-test", 2,
			"errors-test: node 7: errors-test: second failure"},
		{"a sentinel wrapped under its module's prefix", fmt.Errorf("errors-test: node 7: %w", errTestSecond), errTestSecond,
			"errors-test", 2, "errors-test: node 7: errors-test: second failure"},
		{"a sentinel joined with another error", Join(stderrors.New("io"), errOtherMod), errOtherMod, "errors-test-other", 1,
			"errors-test-other: io\nerrors-test-other: failure elsewhere"},
		{"an uncoded error", stderrors.New("disk on fire"), nil, UnknownModule, UnknownCode, "unknown: disk on fire"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := roundTrip(t, c.err)
			if got == nil {
				t.Fatal("error lost on the wire")
			}
			if c.wantIs != nil && !Is(got, c.wantIs) {
				t.Fatalf("errors.Is(%v, %v) is false after the wire", got, c.wantIs)
			}
			if m, code := Code(got); m != c.wantModule || code != c.wantCode {
				t.Fatalf("Code = (%q, %d), want (%q, %d)", m, code, c.wantModule, c.wantCode)
			}
			if got.Error() != c.wantText {
				t.Fatalf("text %q, want %q", got.Error(), c.wantText)
			}
			// A second hop changes nothing.
			if again := roundTrip(t, got); again.Error() != got.Error() {
				t.Fatalf("second hop gives %q, first %q", again, got)
			}
		})
	}
}

func TestASentinelComesBackAsItself(t *testing.T) {
	if got := roundTrip(t, errTestFirst); got != error(errTestFirst) {
		t.Fatalf("got %#v, want the sentinel itself", got)
	}
}

func TestAnUnregisteredPairKeepsItsCodeButMatchesNothing(t *testing.T) {
	got := FromWire(Wire{Module: "errors-test-remote", Code: 9, Message: "their failure"})
	if m, c := Code(got); m != "errors-test-remote" || c != 9 {
		t.Fatalf("Code = (%q, %d)", m, c)
	}
	if got.Error() != "errors-test-remote: their failure" {
		t.Fatalf("text %q", got)
	}
	if Is(got, errTestFirst) {
		t.Fatal("an unregistered pair matches a registered sentinel")
	}
	if noModule := FromWire(Wire{Code: 3, Message: "m"}); noModule.Error() != "unknown: m" {
		t.Fatalf("a pair without a module gives %q", noModule)
	}
}

func TestNoErrorIsTheZeroWire(t *testing.T) {
	if w := ToWire(nil); w != (Wire{}) {
		t.Fatalf("ToWire(nil) = %+v", w)
	}
	if err := FromWire(Wire{}); err != nil {
		t.Fatalf("FromWire(zero) = %v", err)
	}
	if enc := cbor.Marshal(Wire{}); len(enc) != 1 || enc[0] != 0xa0 {
		t.Fatalf("the zero Wire encodes as %x, want a0", enc)
	}
	if m, c := Code(nil); m != "" || c != 0 {
		t.Fatalf("Code(nil) = (%q, %d)", m, c)
	}
}
