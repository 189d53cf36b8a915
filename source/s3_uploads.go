package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"hoist/uploader"
)

var (
	_ uploader.UploadLister  = (*S3)(nil)
	_ uploader.ObjectStatter = (*S3)(nil)
)

// ListUploads lists the multipart uploads in progress for exactly the key f
// goes to, with when each began: the engine aborts the one a lost
// CreateMultipartUpload answer left behind.
func (s *S3) ListUploads(ctx context.Context, f uploader.File) ([]uploader.Upload, error) {
	key := s.prefix + f.Key
	var out []uploader.Upload
	pages := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(key),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the multipart uploads of s3://%s/%s: %w", s.bucket, key, err)
		}
		for _, u := range page.Uploads {
			if aws.ToString(u.Key) != key { // the prefix also matches longer keys
				continue
			}
			out = append(out, uploader.Upload{Key: key, UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
	}
	return out, nil
}

// StatObject reports the size and ETag of the object at key (a full key, as
// Upload.Key holds it), or -1 when there is none.
func (s *S3) StatObject(ctx context.Context, key string) (int64, string, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey") {
			return -1, "", nil
		}
		return 0, "", fmt.Errorf("asking about s3://%s/%s: %w", s.bucket, key, err)
	}
	return aws.ToInt64(out.ContentLength), aws.ToString(out.ETag), nil
}
