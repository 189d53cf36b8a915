package konfidantemu

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// errNoObject is a HEAD or GET of a key the store does not hold.
var errNoObject = errors.New("no such object")

// store is the emulator's own view of the bucket: what arrived, the bytes
// to deliver, and the burn.
type store struct {
	bucket string
	client *s3.Client
	tr     *http.Transport
}

type object struct {
	size int64
	meta map[string]string // "x-amz-meta-user-id" → value
}

func newStore(s Store) *store {
	// Its own transport, so Close leaves no idle connection behind.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &store{
		bucket: s.Bucket,
		tr:     tr,
		client: s3.New(s3.Options{
			Region:       s.Region,
			BaseEndpoint: aws.String(s.Direct),
			UsePathStyle: true,
			Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
			HTTPClient:   &http.Client{Transport: tr},
		}),
	}
}

func (s *store) head(ctx context.Context, key string) (object, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return object{}, notFound(err)
	}
	o := object{size: aws.ToInt64(out.ContentLength), meta: make(map[string]string, len(out.Metadata))}
	for k, v := range out.Metadata {
		o.meta["x-amz-meta-"+strings.ToLower(k)] = v
	}
	return o, nil
}

func (s *store) get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, notFound(err)
	}
	return out.Body, nil
}

func (s *store) remove(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	return err
}

func (s *store) close() { s.tr.CloseIdleConnections() }

// notFound turns the store's 404 into errNoObject.
func notFound(err error) error {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return errNoObject
	}
	return err
}
