package uploader

import (
	"bytes"
	"io"
	"mime/multipart"
)

// formFrame renders a presigned POST form around the file: the fields, then
// the file part's header (prefix), and the closing boundary (suffix). The file
// itself streams between them and is never buffered.
func formFrame(fields []FormField, filename string) (prefix, suffix []byte, contentType string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		_ = w.WriteField(f.Name, f.Value) // writes to a bytes.Buffer cannot fail
	}
	_, _ = w.CreateFormFile("file", filename)
	prefix = bytes.Clone(buf.Bytes())
	buf.Reset()
	_ = w.Close()
	return prefix, bytes.Clone(buf.Bytes()), w.FormDataContentType()
}

// framed reads its parts one after another, like io.MultiReader, and passes
// Close on (the body in the middle is what counts progress).
type framed struct {
	parts []io.Reader
}

func (f *framed) Read(p []byte) (int, error) {
	for len(f.parts) > 0 {
		n, err := f.parts[0].Read(p)
		if err == io.EOF {
			f.parts = f.parts[1:]
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
	return 0, io.EOF
}

func (f *framed) Close() error { return nil }
