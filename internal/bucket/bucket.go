package bucket

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/memblob"  // mem://
	_ "gocloud.dev/blob/s3blob"   // s3://
)

// Schemes lists the URL schemes Open accepts.
var Schemes = []string{"file", "mem", "s3"}

// Open opens the bucket at rawURL. A file:// URL with a relative path
// (file://lake/raw) is taken relative to the working directory, and the
// directory is created if missing. Errors never include the URL's query, which
// may hold credentials.
func Open(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bucket URL: %w", redact(err))
	}
	switch u.Scheme {
	case "file":
		dir := u.Path
		if u.Host != "" {
			dir = filepath.Join(u.Host, u.Path)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", Safe(rawURL), err)
		}
		q := u.Query()
		q.Set("create_dir", "true")
		rawURL = (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	case "mem", "s3":
	default:
		return nil, fmt.Errorf("bucket %s: unsupported scheme %q (supported: %s)", Safe(rawURL), u.Scheme, strings.Join(Schemes, ", "))
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", Safe(rawURL), redact(err))
	}
	return b, nil
}

// Safe returns rawURL without its query and user info, for messages.
func Safe(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

type redacted struct{ err error }

func (r redacted) Error() string {
	msg := r.err.Error()
	if i := strings.Index(msg, "?"); i >= 0 {
		if j := strings.IndexAny(msg[i:], " \"'"); j >= 0 {
			return msg[:i] + msg[i+j:]
		}
		return msg[:i]
	}
	return msg
}
func (r redacted) Unwrap() error { return r.err }

func redact(err error) error { return redacted{err: err} }
