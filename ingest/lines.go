package ingest

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// lineReader yields the lines of a stream one at a time, of any length.
// The returned slice is valid until the next call.
type lineReader struct {
	r    *bufio.Reader
	buf  []byte
	line int
	// off is the byte offset of the line just returned; n is the offset
	// after it (its newline included).
	off, n int64
	// last reports whether the line just returned had no trailing newline
	// (the end of a file that may still be being written).
	last bool
	// eof is set once the stream has ended: bufio would read on, and a
	// file being appended to would then yield the rest of the half-written
	// line just returned as a line of its own.
	eof bool
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}

func newLineReader(r io.Reader) *lineReader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &lineReader{r: br}
}

// release returns the reader's buffer to the pool; lr must not be used
// afterwards.
func (lr *lineReader) release() {
	lr.r.Reset(nil)
	readerPool.Put(lr.r)
	lr.r = nil
}

// next returns the next line without its newline, or io.EOF.
func (lr *lineReader) next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	if lr.eof {
		return nil, io.EOF
	}
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			lr.buf = append(lr.buf, chunk...)
			continue
		}
		var line []byte
		if len(lr.buf) > 0 {
			lr.buf = append(lr.buf, chunk...)
			line = lr.buf
		} else {
			line = chunk
		}
		if err == io.EOF {
			lr.eof = true
			if len(line) == 0 {
				return nil, io.EOF
			}
			lr.line++
			lr.last = true
			lr.off, lr.n = lr.n, lr.n+int64(len(line))
			return trimCR(line), nil
		}
		if err != nil {
			return nil, err
		}
		lr.line++
		lr.last = false
		lr.off, lr.n = lr.n, lr.n+int64(len(line))
		return trimCR(line[:len(line)-1]), nil
	}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// openMaybeCompressed opens path read-only and transparently decompresses
// .gz and .zst files (by name, or by magic bytes).
func openMaybeCompressed(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// Sniff the magic with pread: a plain file is then read directly, with
	// no second buffer between it and the line reader.
	var magic [4]byte
	if n, _ := f.ReadAt(magic[:], 0); !isCompressed(magic[:n]) && !strings.HasSuffix(path, ".zst") && !strings.HasSuffix(path, ".gz") {
		return f, nil
	}
	return decompress(f, path)
}

func isCompressed(magic []byte) bool {
	return len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b ||
		len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd
}

// zstdPool keeps stream decoders: a new one allocates its window buffers,
// several MB per archived transcript otherwise.
var zstdPool sync.Pool

type multiCloser struct {
	io.Reader
	closers []func() error
}

func (m *multiCloser) Close() error {
	var errs []error
	for _, c := range m.closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func decompress(f io.ReadCloser, name string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return &multiCloser{Reader: gz, closers: []func() error{gz.Close, f.Close}}, nil
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, _ := zstdPool.Get().(*zstd.Decoder)
		var err error
		if zr == nil {
			zr, err = zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		} else {
			err = zr.Reset(br)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		release := func() error {
			if zr.Reset(nil) == nil {
				zstdPool.Put(zr)
			}
			return nil
		}
		return &multiCloser{Reader: zr, closers: []func() error{release, f.Close}}, nil
	}
	if strings.HasSuffix(name, ".zst") || strings.HasSuffix(name, ".gz") {
		f.Close()
		return nil, fmt.Errorf("compressed name but no gzip/zstd header")
	}
	return &multiCloser{Reader: br, closers: []func() error{f.Close}}, nil
}

var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxRowBytes))

// decodeZstd decompresses one SQLite event_zstd value.
func decodeZstd(dst, src []byte) ([]byte, error) {
	return zstdDecoder.DecodeAll(src, dst[:0])
}
