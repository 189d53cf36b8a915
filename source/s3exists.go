package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"hoist/uploader"
)

var _ uploader.Exister = (*S3)(nil)

// Exists asks the store for f's object with a HEAD (--skip-existing).
func (s *S3) Exists(ctx context.Context, f uploader.File) (bool, error) {
	key := s.prefix + f.Key
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	var re *awshttp.ResponseError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("HEAD s3://%s/%s: %w", s.bucket, key, err)
}
