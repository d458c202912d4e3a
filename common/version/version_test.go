package version

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

func TestCBORFormIsAMapWithZeroFieldsOmitted(t *testing.T) {
	cases := []struct {
		v    Version
		cbor string
	}{
		{Version{}, "a0"},
		{Version{Major: 1}, "a1656d616a6f7201"},
		{Version{Major: 1, Minor: 2, Patch: 3}, "a3656d616a6f7201656d696e6f7202657061746368" + "03"},
		{Version{Patch: 65535}, "a165706174636819ffff"},
	}
	for _, c := range cases {
		t.Run(c.v.String(), func(t *testing.T) {
			if got := hex.EncodeToString(cbor.Marshal(c.v)); got != c.cbor {
				t.Fatalf("encoding %s, want %s", got, c.cbor)
			}
			data, _ := hex.DecodeString(c.cbor)
			var back Version
			if err := cbor.UnmarshalCanonical(data, &back); err != nil || back != c.v {
				t.Fatalf("round trip: %v, %v", err, back)
			}
		})
	}
}

func TestDecodingRejectsOutOfRangeAndUnknownFields(t *testing.T) {
	for _, s := range []string{
		"a1656d616a6f721a00010000", // major = 65536
		"a1656d616a6f7220",         // major = -1
		"a165657874726101",         // unknown field "extra"
	} {
		data, _ := hex.DecodeString(s)
		var v Version
		if err := cbor.Unmarshal(data, &v); err == nil {
			t.Errorf("%s decoded to %v", s, v)
		}
	}
}

func TestParseAcceptsOnlyMajorMinorPatch(t *testing.T) {
	good := map[string]Version{
		"0.0.0":             {},
		"1.2.3":             {1, 2, 3},
		"65535.65535.65535": {65535, 65535, 65535},
		"10.0.1":            {10, 0, 1},
	}
	for s, want := range good {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("%q prints as %q", s, got.String())
		}
	}
	for _, s := range []string{"", "1", "1.2", "1.2.3.4", "1..3", "01.2.3", "1.2.-3", "+1.2.3", "1.2.65536", "v1.2.3", "1.2.3 ", "a.b.c"} {
		if v, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, %v; want ErrMalformed", s, v, err)
		}
	}
}

func TestCompareOrdersByMajorThenMinorThenPatch(t *testing.T) {
	cases := []struct {
		a, b Version
		want int
	}{
		{Version{1, 2, 3}, Version{1, 2, 3}, 0},
		{Version{1, 2, 3}, Version{1, 2, 4}, -1},
		{Version{1, 3, 0}, Version{1, 2, 9}, 1},
		{Version{2, 0, 0}, Version{1, 65535, 65535}, 1},
		{Version{0, 0, 0}, Version{0, 0, 1}, -1},
	}
	for _, c := range cases {
		if got := c.a.Compare(c.b); got != c.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := c.b.Compare(c.a); got != -c.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestMaskNonMajorKeepsOnlyTheMajor(t *testing.T) {
	if got := (Version{3, 4, 5}).MaskNonMajor(); got != (Version{Major: 3}) {
		t.Fatalf("got %v", got)
	}
}

func TestPackingIntoU64RoundTrips(t *testing.T) {
	cases := []struct {
		v Version
		u uint64
	}{
		{Version{}, 0},
		{Version{1, 2, 3}, 0x0000_0001_0002_0003},
		{Version{65535, 65535, 65535}, 0x0000_ffff_ffff_ffff},
	}
	for _, c := range cases {
		if got := c.v.ToU64(); got != c.u {
			t.Errorf("%v.ToU64() = %#x, want %#x", c.v, got, c.u)
		}
		if got, err := FromU64(c.u); err != nil || got != c.v {
			t.Errorf("FromU64(%#x) = %v, %v", c.u, got, err)
		}
	}
	if _, err := FromU64(1 << 48); !errors.Is(err, ErrMalformed) {
		t.Errorf("FromU64 with bit 48 set: %v", err)
	}
}

func TestJSONUsesTheTextForm(t *testing.T) {
	type manifest struct {
		Version Version `json:"version"`
	}
	data, err := json.Marshal(manifest{Version{1, 2, 3}})
	if err != nil || string(data) != `{"version":"1.2.3"}` {
		t.Fatalf("JSON %s, %v", data, err)
	}
	var back manifest
	if err := json.Unmarshal(data, &back); err != nil || back.Version != (Version{1, 2, 3}) {
		t.Fatalf("round trip %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"version":"1.2"}`), &back); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad version: %v", err)
	}
}
