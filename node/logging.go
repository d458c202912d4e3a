package node

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/atoll-project/atoll/config"
)

// NewLogger returns the logger the `log` section asks for, writing to w.
func NewLogger(cfg config.LogConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, fmt.Errorf("node: log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch cfg.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("node: unknown log format %q", cfg.Format)
}
