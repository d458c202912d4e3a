package node

import (
	"fmt"
	"strings"
)

// Addresses are text, parsed here by hand because this package is pure and may not import
// "net" (internal/layering). The accepted forms are deliberately narrow so that every address
// has one spelling:
//
//	host:port               a TLS (gRPC) address
//	nodeid@host:port        a consensus (CometBFT P2P) address; nodeid is CometBFT's 40
//	                        lowercase hex character node ID
//
// where host is a dotted-quad IPv4 address without leading zeros, a bracketed IPv6 address
// without a zone ("[::1]"), or a DNS name of letters, digits and hyphens (labels of 1..63
// bytes, at most 253 bytes, last label not all digits); port is 1..65535 without leading
// zeros.

// MaxAddressLength bounds the text of one address.
const MaxAddressLength = 320

// cometNodeIDLength is the length of a CometBFT node ID in hex characters.
const cometNodeIDLength = 40

// ValidateAddress checks a TLS address, "host:port".
func ValidateAddress(addr string) error {
	if len(addr) == 0 || len(addr) > MaxAddressLength {
		return fmt.Errorf("%w: %d bytes, want 1..%d", ErrInvalidAddress, len(addr), MaxAddressLength)
	}
	host, port, err := splitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrInvalidAddress, addr, err)
	}
	if err := validatePort(port); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrInvalidAddress, addr, err)
	}
	if err := validateHost(host); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrInvalidAddress, addr, err)
	}
	return nil
}

// ValidateConsensusAddress checks a consensus address, "nodeid@host:port".
func ValidateConsensusAddress(addr string) error {
	at := strings.IndexByte(addr, '@')
	if at < 0 {
		return fmt.Errorf("%w: %q: want nodeid@host:port", ErrInvalidAddress, addr)
	}
	id := addr[:at]
	if len(id) != cometNodeIDLength || !isLowerHex(id) {
		return fmt.Errorf("%w: %q: node ID must be %d lowercase hex characters", ErrInvalidAddress, addr, cometNodeIDLength)
	}
	return ValidateAddress(addr[at+1:])
}

func splitHostPort(addr string) (host, port string, err error) {
	if strings.HasPrefix(addr, "[") {
		end := strings.IndexByte(addr, ']')
		if end < 0 || end+1 >= len(addr) || addr[end+1] != ':' {
			return "", "", fmt.Errorf("want [ipv6]:port")
		}
		return addr[:end+1], addr[end+2:], nil
	}
	colon := strings.LastIndexByte(addr, ':')
	if colon < 0 {
		return "", "", fmt.Errorf("missing port")
	}
	host = addr[:colon]
	if strings.IndexByte(host, ':') >= 0 {
		return "", "", fmt.Errorf("an IPv6 host must be in brackets")
	}
	return host, addr[colon+1:], nil
}

func validatePort(p string) error {
	n, ok := parseDecimal(p, 5)
	if !ok || n < 1 || n > 65535 {
		return fmt.Errorf("port %q: want 1..65535 without leading zeros", p)
	}
	return nil
}

func validateHost(h string) error {
	switch {
	case h == "":
		return fmt.Errorf("empty host")
	case h[0] == '[':
		if !isIPv6(h[1 : len(h)-1]) {
			return fmt.Errorf("host %q is not an IPv6 address", h)
		}
		return nil
	case looksNumeric(h):
		if !isIPv4(h) {
			return fmt.Errorf("host %q is not a dotted-quad IPv4 address", h)
		}
		return nil
	}
	return validateDNSName(h)
}

// looksNumeric reports whether h consists of digits and dots only, so that it must be an IPv4
// address (a DNS name's last label is never all digits).
func looksNumeric(h string) bool {
	for i := 0; i < len(h); i++ {
		if c := h[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if n, ok := parseDecimal(p, 3); !ok || n > 255 {
			return false
		}
	}
	return true
}

// isIPv6 accepts RFC 4291 text forms: eight groups of 1..4 hex digits, one "::" standing for
// one or more zero groups, and an optional trailing dotted-quad IPv4 address counting as two
// groups. Zones are not accepted.
func isIPv6(s string) bool {
	if s == "" || strings.Count(s, "::") > 1 {
		return false
	}
	groups := 0
	compressed := false
	head, tail := s, ""
	if i := strings.Index(s, "::"); i >= 0 {
		compressed = true
		head, tail = s[:i], s[i+2:]
	}
	for si, side := range []string{head, tail} {
		if side == "" {
			continue
		}
		// An embedded IPv4 address may only end the whole address.
		endsAddress := si == 1 || !compressed
		parts := strings.Split(side, ":")
		for i, p := range parts {
			if endsAddress && i == len(parts)-1 && strings.IndexByte(p, '.') >= 0 {
				if !isIPv4(p) {
					return false
				}
				groups += 2
				continue
			}
			if len(p) == 0 || len(p) > 4 || !isHex(p) {
				return false
			}
			groups++
		}
	}
	if compressed {
		return groups <= 7
	}
	return groups == 8
}

func validateDNSName(h string) error {
	if len(h) > 253 {
		return fmt.Errorf("host name of %d bytes, limit 253", len(h))
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			return fmt.Errorf("host name %q: label of %d bytes, want 1..63", h, len(l))
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("host name %q: label %q starts or ends with a hyphen", h, l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("host name %q: byte 0x%02x not allowed", h, c)
			}
		}
	}
	return nil
}

// parseDecimal parses 1..maxDigits decimal digits without leading zeros.
func parseDecimal(s string, maxDigits int) (int, bool) {
	if len(s) == 0 || len(s) > maxDigits || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
