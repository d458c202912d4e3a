package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// DefaultMaxFrameSize is the default cap on a frame's payload: 16 MiB.
const DefaultMaxFrameSize = 16 << 20

// frameHeaderSize is the length of the u32 big-endian length prefix.
const frameHeaderSize = 4

// normalizeMaxFrameSize maps 0 (or less) to the default and clamps the cap to what a u32
// length can express.
func normalizeMaxFrameSize(maxSize int) int {
	switch {
	case maxSize <= 0:
		return DefaultMaxFrameSize
	case uint64(maxSize) > math.MaxUint32:
		return math.MaxUint32
	default:
		return maxSize
	}
}

// ReadFrame reads one frame, `u32 big-endian length || payload`, and returns the payload. The
// length is checked before anything is allocated: a zero length gives ErrEmptyFrame, one over
// maxSize (DefaultMaxFrameSize when 0) ErrFrameTooLarge. A stream that ends cleanly before a
// frame starts gives io.EOF; one that ends inside a frame gives io.ErrUnexpectedEOF. The
// payload is a new buffer, the caller's alone: ReadFrame never reuses one.
func ReadFrame(r io.Reader, maxSize int) ([]byte, error) {
	maxSize = normalizeMaxFrameSize(maxSize)
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("protocol: reading frame length: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	if uint64(n) > uint64(maxSize) {
		return nil, fmt.Errorf("%w: peer announced %d bytes, cap is %d", ErrFrameTooLarge, n, maxSize)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("protocol: reading %d-byte frame: %w", n, err)
	}
	return payload, nil
}

// WriteFrame writes payload as one frame. It refuses an empty payload or one over maxSize
// (DefaultMaxFrameSize when 0) without writing anything.
func WriteFrame(w io.Writer, payload []byte, maxSize int) error {
	if err := checkPayloadSize(len(payload), maxSize); err != nil {
		return err
	}
	frame := make([]byte, frameHeaderSize, frameHeaderSize+len(payload))
	binary.BigEndian.PutUint32(frame, uint32(len(payload)))
	frame = append(frame, payload...)
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("protocol: writing frame: %w", err)
	}
	return nil
}

func checkPayloadSize(n, maxSize int) error {
	maxSize = normalizeMaxFrameSize(maxSize)
	if n == 0 {
		return ErrEmptyFrame
	}
	if n > maxSize {
		return fmt.Errorf("%w: %d bytes, cap is %d", ErrFrameTooLarge, n, maxSize)
	}
	return nil
}
