package node

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

func TestRolesPrintAndParseAsCommaSeparatedNames(t *testing.T) {
	for _, tc := range []struct {
		mask RolesMask
		text string
	}{
		{RoleValidator, "validator"},
		{RoleCompute | RoleStorage, "compute,storage"},
		{RolesAll, "validator,compute,storage,client"},
		{RoleClient | RoleValidator, "validator,client"},
	} {
		if got := tc.mask.String(); got != tc.text {
			t.Errorf("String(%#x) = %q, want %q", uint32(tc.mask), got, tc.text)
		}
		got, err := ParseRoles(tc.text)
		if err != nil || got != tc.mask {
			t.Errorf("ParseRoles(%q) = %#x, %v, want %#x", tc.text, uint32(got), err, uint32(tc.mask))
		}
	}
	if got, err := ParseRoles(" storage , compute"); err != nil || got != RoleCompute|RoleStorage {
		t.Errorf("ParseRoles with spaces and another order = %s, %v", got, err)
	}
}

func TestParseRolesRejectsUnknownEmptyAndRepeatedNames(t *testing.T) {
	for _, s := range []string{"", "compute,", "Compute", "observer", "compute,compute"} {
		if _, err := ParseRoles(s); !errors.Is(err, ErrInvalidRoles) {
			t.Errorf("ParseRoles(%q) = %v, want ErrInvalidRoles", s, err)
		}
	}
}

func TestRolesValidateRejectsEmptyAndUnknownBits(t *testing.T) {
	if err := RolesMask(0).Validate(); !errors.Is(err, ErrInvalidRoles) {
		t.Errorf("empty mask: %v", err)
	}
	if err := (RoleCompute | 1<<7).Validate(); !errors.Is(err, ErrInvalidRoles) {
		t.Errorf("unknown bit: %v", err)
	}
	if got := (RoleCompute | 1<<7).String(); got != "compute,unknown(0x80)" {
		t.Errorf("String with an unknown bit = %q", got)
	}
	if RolesMask(0).String() != "none" {
		t.Errorf("String of the empty mask = %q", RolesMask(0).String())
	}
}

func TestSingleRoleAndRolesListTheBits(t *testing.T) {
	if !RoleStorage.IsSingleRole() || (RoleStorage | RoleCompute).IsSingleRole() || RolesMask(0).IsSingleRole() || RolesMask(1<<9).IsSingleRole() {
		t.Error("IsSingleRole misclassifies")
	}
	got := (RoleClient | RoleCompute).Roles()
	if len(got) != 2 || got[0] != RoleCompute || got[1] != RoleClient {
		t.Errorf("Roles() = %v", got)
	}
}

func TestRolesAreAnIntegerInCBORAndNamesInJSON(t *testing.T) {
	m := RoleCompute | RoleStorage
	if got := cbor.Marshal(m); string(got) != "\x06" {
		t.Errorf("CBOR of compute|storage = %x, want 06", got)
	}
	j, err := json.Marshal(map[string]RolesMask{"roles": m})
	if err != nil || string(j) != `{"roles":"compute,storage"}` {
		t.Errorf("JSON = %s, %v", j, err)
	}
	var back map[string]RolesMask
	if err := json.Unmarshal(j, &back); err != nil || back["roles"] != m {
		t.Errorf("JSON round trip = %v, %v", back, err)
	}
	// Role-keyed maps (admission limits) use the integer keys in CBOR too.
	if got := cbor.Marshal(map[RolesMask]uint16{RoleCompute: 3}); string(got) != "\xa1\x02\x03" {
		t.Errorf("CBOR of {compute: 3} = %x, want a10203", got)
	}
}
