package host

import (
	"bytes"
	"log/slog"
	"sync"
)

// maxOutputLine caps one logged line of runtime output; longer lines are logged in pieces.
const maxOutputLine = 1 << 10

// lineLogger is an io.Writer that logs what a runtime writes, one record per line. It is safe
// for concurrent use.
type lineLogger struct {
	logger *slog.Logger
	stream string

	mu  sync.Mutex
	buf []byte
}

func newLineLogger(logger *slog.Logger, stream string) *lineLogger {
	return &lineLogger{logger: logger, stream: stream}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxOutputLine - len(l.buf)
			if len(p) < room {
				l.buf = append(l.buf, p...)
				return n, nil
			}
			l.buf = append(l.buf, p[:room]...)
			p = p[room:]
			l.flush()
			continue
		}
		line := p[:i]
		p = p[i+1:]
		for len(l.buf)+len(line) > maxOutputLine {
			room := maxOutputLine - len(l.buf)
			l.buf = append(l.buf, line[:room]...)
			line = line[room:]
			l.flush()
		}
		l.buf = append(l.buf, line...)
		l.flush()
	}
	return n, nil
}

func (l *lineLogger) flush() {
	l.logger.Info("runtime output", "stream", l.stream, "runtime_output", string(l.buf))
	l.buf = l.buf[:0]
}
