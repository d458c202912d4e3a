// Package config is the node configuration: one YAML file, decoded strictly, made of sections
// that each have a Default and a Validate.
//
// Contract:
//   - Default returns a configuration that validates; a file only needs the keys it changes.
//   - Load and Parse reject unknown keys (naming the key, its section and its line), duplicate
//     keys, values of the wrong type and values that do not validate; every error says which
//     key is wrong. Errors wrap ErrUnknownKey or ErrInvalid.
//   - Relative paths in a file are resolved against the directory of that file, so a network
//     directory can be moved as a whole. Empty paths that are derived from the data directory
//     (the genesis file, the gRPC socket) are filled in by Load and Parse.
//   - A Config is plain data: copy it freely; it is never read from globals or the environment.
//
// Sections that later issues add (runtime, storage, compute, client) go beside the present
// ones; until they exist their keys are rejected like any other unknown key.
//
// Every key, its default and its meaning are documented in docs/config.md.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

var (
	// ErrUnknownKey is wrapped by the error for a key the configuration does not have.
	ErrUnknownKey = errors.New("config: unknown key")
	// ErrInvalid is wrapped by the error for a value that does not validate.
	ErrInvalid = errors.New("config: invalid value")
)

// MaxFileSize bounds a configuration file.
const MaxFileSize = 1 << 20

// Config is the whole node configuration.
type Config struct {
	// DataDir holds the node's keys, databases, CometBFT's home and the gRPC socket.
	DataDir   string          `yaml:"datadir"`
	Log       LogConfig       `yaml:"log"`
	Genesis   GenesisConfig   `yaml:"genesis"`
	Consensus ConsensusConfig `yaml:"consensus"`
	GRPC      GRPCConfig      `yaml:"grpc"`
	Metrics   MetricsConfig   `yaml:"metrics"`
}

// Default returns the default configuration. Its data directory is "data", relative to the
// working directory (or to the configuration file, when loaded from one).
func Default() Config {
	return Config{
		DataDir:   "data",
		Log:       DefaultLog(),
		Genesis:   DefaultGenesis(),
		Consensus: DefaultConsensus(),
		GRPC:      DefaultGRPC(),
		Metrics:   DefaultMetrics(),
	}
}

// Validate checks every section.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return invalid("datadir", "must not be empty")
	}
	checks := []struct {
		section string
		err     error
	}{
		{"log", c.Log.Validate()},
		{"genesis", c.Genesis.Validate()},
		{"consensus", c.Consensus.Validate()},
		{"grpc", c.GRPC.Validate()},
		{"metrics", c.Metrics.Validate()},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return inSection(ch.section, ch.err)
		}
	}
	return nil
}

// Load reads, decodes and validates the configuration file at path. Relative paths in it are
// resolved against the file's directory.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("config: reading %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return Config{}, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalid, path, MaxFileSize)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates a configuration document over the defaults. Relative paths are
// resolved against baseDir; an empty baseDir leaves them relative to the working directory.
func Parse(data []byte, baseDir string) (Config, error) {
	cfg := Default()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(doc.Content) > 0 {
		if err := checkKnownKeys(doc.Content[0], "", &cfg); err != nil {
			return Config{}, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return Config{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	cfg.resolvePaths(baseDir)
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Marshal encodes the configuration as a YAML document that Parse reads back to an equal
// Config.
func (c *Config) Marshal() []byte {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		// Config is plain data with string, number, bool and list fields only.
		panic(fmt.Sprintf("config: cannot encode: %v", err))
	}
	_ = enc.Close()
	return buf.Bytes()
}

// WriteFile writes the configuration to path (mode 0644), replacing any file there.
func (c *Config) WriteFile(path string) error {
	if err := os.WriteFile(path, c.Marshal(), 0o644); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// GenesisFile returns the path of the genesis document.
func (c *Config) GenesisFile() string {
	if c.Genesis.File != "" {
		return c.Genesis.File
	}
	return filepath.Join(c.DataDir, "genesis.json")
}

// UnixSocket returns the path of the gRPC Unix socket, or "" when it is disabled.
func (c *Config) UnixSocket() string {
	if !c.GRPC.Unix.Enabled {
		return ""
	}
	if c.GRPC.Unix.Path != "" {
		return c.GRPC.Unix.Path
	}
	return filepath.Join(c.DataDir, DefaultSocketName)
}

func (c *Config) resolvePaths(baseDir string) {
	resolve := func(p *string) {
		if *p != "" && baseDir != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(baseDir, *p)
		}
	}
	resolve(&c.DataDir)
	resolve(&c.Genesis.File)
	resolve(&c.GRPC.Unix.Path)
	resolve(&c.GRPC.TCP.TLS.CertFile)
	resolve(&c.GRPC.TCP.TLS.KeyFile)
}

// InvalidError is the error for a value that does not validate. It matches ErrInvalid.
type InvalidError struct {
	// Key is the dotted path of the key ("consensus.mempool.size").
	Key string
	// Reason says what is wrong and what is expected.
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("config: invalid value: %s: %s", e.Key, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(key, format string, args ...any) error {
	return &InvalidError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

// inSection prefixes the key of an InvalidError with its section.
func inSection(section string, err error) error {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return &InvalidError{Key: section + "." + ie.Key, Reason: ie.Reason}
	}
	return fmt.Errorf("config: %s: %w", section, err)
}
