package rpc

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ErrSocketInUse is returned by ListenUnix when a live server already listens on the path.
var ErrSocketInUse = errors.New("rpc: socket in use by a running server")

// socketMode is the permission of the Unix socket: only the node's user may connect.
const socketMode = 0o600

// ListenUnix listens on the Unix socket at path with mode 0600. A stale socket left by a node
// that died is removed; a socket a live server answers on is not (ErrSocketInUse), nor is a
// file that is not a socket. The parent directory is created with mode 0700 if missing. The
// socket file is removed when the listener is closed.
func ListenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("rpc: %s exists and is not a socket; move it away", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("%w: %s; is another node running with this data directory?", ErrSocketInUse, path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("rpc: removing stale socket: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	if err := os.Chmod(path, socketMode); err != nil {
		_ = lis.Close()
		return nil, fmt.Errorf("rpc: %w", err)
	}
	return lis, nil
}

// SelfSignedCertificate returns a self-signed TLS certificate for key, valid for ten years.
// Clients authenticate such a server by its public key (PinnedClientTLS), not by a CA.
func SelfSignedCertificate(key ed25519.PrivateKey) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("rpc: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "atoll-node"},
		DNSNames:              []string{"atoll-node"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("rpc: creating certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("rpc: parsing certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// ServerTLS returns the TLS configuration of a server presenting cert (TLS 1.3 only).
func ServerTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
}

// PinnedClientTLS returns a client TLS configuration that accepts exactly the server whose
// certificate holds the Ed25519 public key pub, whatever its names and issuer.
func PinnedClientTLS(pub ed25519.PublicKey) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The chain is not verified against CAs: the pinned key is the trust anchor, checked
		// below on every handshake.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("rpc: server presented no certificate")
			}
			cert, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("rpc: server certificate: %w", err)
			}
			got, ok := cert.PublicKey.(ed25519.PublicKey)
			if !ok || !bytes.Equal(got, pub) {
				return fmt.Errorf("rpc: server key is not the pinned key %x", []byte(pub))
			}
			return nil
		},
	}
}
