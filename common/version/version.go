// Package version defines Version, a semantic version of a protocol or runtime.
//
// The CBOR form is a map {major, minor, patch} with zero fields omitted (so 0.0.0 is the empty
// map); the text form, used by JSON and YAML, is "major.minor.patch". Versions with the same
// major number are compatible; MaskNonMajor gives the part that must match.
package version

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed is returned when parsing or decoding a malformed version.
var ErrMalformed = errors.New("version: malformed version")

// Version is a semantic version.
type Version struct {
	Major uint16 `cbor:"major,omitempty"`
	Minor uint16 `cbor:"minor,omitempty"`
	Patch uint16 `cbor:"patch,omitempty"`
}

// String returns "major.minor.patch".
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Parse parses "major.minor.patch": three decimal numbers of at most 16 bits each, without
// signs or leading zeros.
func Parse(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("%w: %q is not major.minor.patch", ErrMalformed, s)
	}
	var nums [3]uint16
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') || p[0] == '+' || p[0] == '-' {
			return Version{}, fmt.Errorf("%w: %q: bad component %q", ErrMalformed, s, p)
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return Version{}, fmt.Errorf("%w: %q: component %q: %v", ErrMalformed, s, p, err)
		}
		nums[i] = uint16(n)
	}
	return Version{Major: nums[0], Minor: nums[1], Patch: nums[2]}, nil
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than o.
func (v Version) Compare(o Version) int {
	a, b := v.ToU64(), o.ToU64()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MaskNonMajor returns v with minor and patch set to zero: the part that compatible versions
// share.
func (v Version) MaskNonMajor() Version { return Version{Major: v.Major} }

// ToU64 packs v into major<<32 | minor<<16 | patch, which orders like Compare.
func (v Version) ToU64() uint64 {
	return uint64(v.Major)<<32 | uint64(v.Minor)<<16 | uint64(v.Patch)
}

// FromU64 unpacks a value made by ToU64. It rejects values with any of the top 16 bits set.
func FromU64(u uint64) (Version, error) {
	if u>>48 != 0 {
		return Version{}, fmt.Errorf("%w: packed value %#x has bits above 48", ErrMalformed, u)
	}
	return Version{Major: uint16(u >> 32), Minor: uint16(u >> 16), Patch: uint16(u)}, nil
}

// MarshalText returns the String form.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses the String form (see Parse).
func (v *Version) UnmarshalText(text []byte) error {
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
