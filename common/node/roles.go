package node

import (
	"fmt"
	"strings"
)

// RolesMask is the set of roles a node registers for, one bit per role. Its CBOR form is the
// unsigned integer; its text form (JSON, YAML, the CLI) is the comma-separated role names in
// bit order, for example "validator,compute".
type RolesMask uint32

// The roles of DESIGN.md §9. The bit values are part of the descriptor encoding and never
// change.
const (
	// RoleValidator: the node runs a CometBFT validator and may join the validator set.
	RoleValidator RolesMask = 1 << 0
	// RoleCompute: the node executes runtimes and may be elected into executor committees.
	RoleCompute RolesMask = 1 << 1
	// RoleStorage: the node keeps runtime state and may be elected into storage committees.
	RoleStorage RolesMask = 1 << 2
	// RoleClient: the node serves the runtime client API.
	RoleClient RolesMask = 1 << 3

	// RolesAll is every known role.
	RolesAll = RoleValidator | RoleCompute | RoleStorage | RoleClient
)

var roleNames = []struct {
	role RolesMask
	name string
}{
	{RoleValidator, "validator"},
	{RoleCompute, "compute"},
	{RoleStorage, "storage"},
	{RoleClient, "client"},
}

// IsSingleRole reports whether m is exactly one known role.
func (m RolesMask) IsSingleRole() bool {
	return m != 0 && m&(m-1) == 0 && m&RolesAll == m
}

// Roles returns the single roles in m, in bit order; unknown bits are left out.
func (m RolesMask) Roles() []RolesMask {
	var out []RolesMask
	for _, r := range roleNames {
		if m&r.role != 0 {
			out = append(out, r.role)
		}
	}
	return out
}

// Validate checks that m is non-empty and has only known bits.
func (m RolesMask) Validate() error {
	if m == 0 {
		return fmt.Errorf("%w: no roles", ErrInvalidRoles)
	}
	if extra := m &^ RolesAll; extra != 0 {
		return fmt.Errorf("%w: unknown role bits %#x", ErrInvalidRoles, uint32(extra))
	}
	return nil
}

// String returns the role names joined by commas in bit order, "unknown(0x…)" for unknown
// bits and "none" for the empty mask.
func (m RolesMask) String() string {
	if m == 0 {
		return "none"
	}
	var names []string
	for _, r := range roleNames {
		if m&r.role != 0 {
			names = append(names, r.name)
		}
	}
	if extra := m &^ RolesAll; extra != 0 {
		names = append(names, fmt.Sprintf("unknown(%#x)", uint32(extra)))
	}
	return strings.Join(names, ",")
}

// ParseRoles parses comma-separated role names ("compute,storage"). Names are
// case-sensitive, surrounding spaces are ignored, and an empty list, an unknown name or a
// repeated name is an error.
func ParseRoles(s string) (RolesMask, error) {
	var m RolesMask
	for _, part := range strings.Split(s, ",") {
		name := strings.TrimSpace(part)
		r, ok := roleByName(name)
		if !ok {
			return 0, fmt.Errorf("%w: unknown role %q (want %s)", ErrInvalidRoles, name, RolesAll)
		}
		if m&r != 0 {
			return 0, fmt.Errorf("%w: role %q given twice", ErrInvalidRoles, name)
		}
		m |= r
	}
	return m, nil
}

func roleByName(name string) (RolesMask, bool) {
	for _, r := range roleNames {
		if r.name == name {
			return r.role, true
		}
	}
	return 0, false
}

// MarshalText returns the text form; it fails for unknown bits, which a valid mask never has.
func (m RolesMask) MarshalText() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return []byte(m.String()), nil
}

// UnmarshalText parses the text form with ParseRoles.
func (m *RolesMask) UnmarshalText(text []byte) error {
	p, err := ParseRoles(string(text))
	if err != nil {
		return err
	}
	*m = p
	return nil
}
