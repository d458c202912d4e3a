package node

import (
	"errors"
	"testing"
)

func TestValidateAddressAcceptsTheCanonicalForms(t *testing.T) {
	for _, a := range []string{
		"127.0.0.1:9100",
		"0.0.0.0:1",
		"255.255.255.255:65535",
		"localhost:26656",
		"node-1.example.org:443",
		"Node1.Example.ORG:443",
		"[::1]:9000",
		"[2001:db8::8a2e:370:7334]:9000",
		"[2001:0db8:0000:0000:0000:ff00:0042:8329]:1",
		"[::ffff:192.0.2.128]:80",
		"[::]:80",
		"[1::]:80",
		"[1:2:3:4:5:6:7::]:80",
		"[1:2:3:4:5:6:1.2.3.4]:80",
	} {
		if err := ValidateAddress(a); err != nil {
			t.Errorf("ValidateAddress(%q) = %v", a, err)
		}
	}
}

func TestValidateAddressRejectsMalformedAndAmbiguousForms(t *testing.T) {
	for name, a := range map[string]string{
		"empty":                            "",
		"no port":                          "127.0.0.1",
		"empty port":                       "127.0.0.1:",
		"port zero":                        "127.0.0.1:0",
		"port too large":                   "127.0.0.1:65536",
		"port with a leading zero":         "127.0.0.1:080",
		"port with a sign":                 "127.0.0.1:+80",
		"empty host":                       ":80",
		"IPv4 octet too large":             "256.0.0.1:80",
		"IPv4 with a leading zero":         "127.0.0.01:80",
		"three-part IPv4":                  "1.2.3:80",
		"all-digit host name":              "12345:80",
		"unbracketed IPv6":                 "::1:80",
		"IPv6 without a port":              "[::1]",
		"IPv6 with a zone":                 "[fe80::1%eth0]:80",
		"IPv6 with two compressions":       "[1::2::3]:80",
		"IPv6 with nine groups":            "[1:2:3:4:5:6:7:8:9]:80",
		"IPv6 with seven groups, no ::":    "[1:2:3:4:5:6:7]:80",
		"IPv6 with a five-digit group":     "[12345::]:80",
		"IPv6 with an IPv4 before ::":      "[1.2.3.4::]:80",
		"IPv6 compressed eight groups":     "[1:2:3:4::5:6:7:8]:80",
		"host label starting with hyphen":  "-node.example.org:80",
		"host with an underscore":          "node_1.example.org:80",
		"host with an empty label":         "node..example.org:80",
		"host with a trailing dot":         "node.example.org.:80",
		"URL scheme":                       "tcp://node:80",
		"host with a space":                "node 1:80",
		"host label longer than 63 bytes":  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org:80",
		"consensus form given as TLS form": "0123456789abcdef0123456789abcdef01234567@127.0.0.1:80",
	} {
		if err := ValidateAddress(a); !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("%s: ValidateAddress(%q) = %v, want ErrInvalidAddress", name, a, err)
		}
	}
}

func TestValidateConsensusAddressNeedsACometBFTNodeID(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef01234567"
	if err := ValidateConsensusAddress(id + "@127.0.0.1:26656"); err != nil {
		t.Errorf("valid consensus address: %v", err)
	}
	for name, a := range map[string]string{
		"no node ID":           "127.0.0.1:26656",
		"upper-case node ID":   "0123456789ABCDEF0123456789ABCDEF01234567@127.0.0.1:26656",
		"short node ID":        "0123@127.0.0.1:26656",
		"bad host after the @": id + "@127.0.0.1",
	} {
		if err := ValidateConsensusAddress(a); !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("%s: ValidateConsensusAddress(%q) = %v", name, a, err)
		}
	}
}
