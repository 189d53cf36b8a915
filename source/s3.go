package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/httpbinding"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"hoist/fileset"
	"hoist/inspect"
	"hoist/uploader"
)

// S3 limits that shape the defaults.
const (
	defaultS3Expiry = 15 * time.Minute
	maxS3Expiry     = 7 * 24 * time.Hour // X-Amz-Expires may not exceed 604800
	// defaultS3Region is used when nothing names one and an endpoint is given:
	// MinIO and R2 both accept it.
	defaultS3Region = "us-east-1"
)

// S3Config says where an S3 source puts files and how it signs.
type S3Config struct {
	Bucket      string
	Prefix      string // key prefix; a non-empty prefix is a folder ("a" and "a/" both give "a/<key>")
	EndpointURL string // R2, MinIO, a local store…; "" means AWS
	Region      string // "" means the AWS chain's region, else us-east-1 with an endpoint
	Profile     string // shared config profile; "" means AWS_PROFILE or default

	// AccessKey and SecretKey are static credentials (the embedded store,
	// tests). Empty means the standard AWS chain: environment, profile, SSO…
	AccessKey, SecretKey string

	PathStyle bool          // http://host/bucket/key instead of http://bucket.host/key
	Expiry    time.Duration // how long each URL works; 0 means 15 minutes
	Multipart bool          // offer multipart uploads to the engine
	// MaxSinglePut is the largest single PUT: 0 means S3's 5 GiB, negative
	// means no limit (the embedded store has none).
	MaxSinglePut int64
	// OneAtATime: the store serves one request at a time (the embedded
	// store), so the engine sends it one file at a time.
	OneAtATime bool

	// Location, when set, says where a person finds an uploaded object (the
	// embedded store's file on disk); it fills Target.Location.
	Location func(key string) string
}

// S3 presigns uploads locally with S3 credentials. Metadata and each body's
// CRC32 are signed headers, so the store refuses a request whose headers or
// bytes differ from what was signed.
type S3 struct {
	bucket   string
	prefix   string
	host     string
	expiry   time.Duration
	caps     uploader.Capabilities
	location func(string) string

	client  *s3.Client
	presign *s3.PresignClient
	signer  *v4.Signer

	// putBase is the object URL of key "" as the SDK's endpoint rules make it
	// for this bucket (path style or virtual host), so Target signs a PUT
	// with signer directly: the SDK's PresignPutObject, with region "auto",
	// compiled a regular expression on every call (42% of hoist's CPU under
	// presigning, issue 15). "" when the rules gave a shape Target cannot
	// reproduce: it then goes through the SDK.
	putBase string
	// signedBy says where the keys came from, for explaining refusals.
	signedBy *uploader.Signer
	creds    aws.CredentialsProvider
	region   string

	// now is the signing clock; tests move it into the past to get expired URLs.
	now func() time.Time

	closeIdle func() // closes the SDK client's idle connections
}

var _ uploader.MultipartSource = (*S3)(nil)

// bucketName is S3's rule for new buckets: 3–63 lower-case letters, digits,
// dots and hyphens, starting and ending with a letter or digit.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseS3URI splits s3://bucket[/prefix] into its bucket and key prefix.
func ParseS3URI(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("S3 location %q: want s3://bucket or s3://bucket/prefix", s)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("S3 location %q has no bucket: want s3://bucket or s3://bucket/prefix", s)
	}
	if !bucketName.MatchString(bucket) {
		return "", "", fmt.Errorf("S3 location %q: bucket name %q is not valid: use 3–63 lower-case letters, digits, dots or hyphens", s, bucket)
	}
	if prefix != "" {
		if err := fileset.CheckKey(prefix); err != nil {
			return "", "", fmt.Errorf("S3 location %q: the prefix is not a folder path: %w", s, err)
		}
	}
	return bucket, prefix, nil
}

// NewS3 loads credentials and checks them once, so a missing key is a
// configuration error before any file is touched.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	if c.Bucket == "" {
		return nil, errors.New("no S3 bucket: set --s3 s3://bucket/prefix")
	}
	if !bucketName.MatchString(c.Bucket) {
		return nil, fmt.Errorf("S3 bucket name %q is not valid: use 3–63 lower-case letters, digits, dots or hyphens", c.Bucket)
	}
	expiry := c.Expiry
	if expiry == 0 {
		expiry = defaultS3Expiry
	}
	if expiry < time.Second || expiry > maxS3Expiry {
		return nil, fmt.Errorf("S3 URL expiry %v is out of range: use between 1s and 168h (S3 refuses longer)", expiry)
	}
	var host string
	if c.EndpointURL != "" {
		u, err := url.Parse(c.EndpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--endpoint-url %q is not valid: want http(s)://host[:port]", c.EndpointURL)
		}
		host = u.Host
	}

	awsCfg, err := loadAWSConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	if awsCfg.Region == "" {
		if c.EndpointURL == "" {
			return nil, fmt.Errorf("no AWS region for s3://%s: set AWS_REGION, or region in your AWS profile", c.Bucket)
		}
		awsCfg.Region = defaultS3Region
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("no AWS credentials found for s3://%s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE: %w", c.Bucket, err)
	}
	if host == "" {
		host = "s3." + awsCfg.Region + ".amazonaws.com"
	}

	// The SDK's HTTP client as the configuration built it (a custom CA
	// bundle included), on a transport kept here so Close can let its
	// connections go; like the SDK's, it follows no redirect.
	closeIdle := func() {}
	if bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok || awsCfg.HTTPClient == nil {
		if bc == nil {
			bc = awshttp.NewBuildableClient()
		}
		tr := bc.GetTransport()
		awsCfg.HTTPClient = &http.Client{Transport: tr, Timeout: bc.GetTimeout(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		closeIdle = tr.CloseIdleConnections
	}

	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.EndpointURL)
		}
		o.UsePathStyle = c.PathStyle
		// hoist retries every call under its own policy (--retries,
		// Retry-After, the context first); the SDK's retryer on top of it
		// multiplied the attempts.
		o.Retryer = aws.NopRetryer{}
	})

	caps := uploader.Capabilities{Resign: true, Multipart: c.Multipart, OneAtATime: c.OneAtATime}
	switch {
	case c.MaxSinglePut == 0:
		caps.MaxSinglePut = inspect.S3MaxSinglePut
	case c.MaxSinglePut > 0:
		caps.MaxSinglePut = c.MaxSinglePut
	}

	s := &S3{
		bucket:   c.Bucket,
		prefix:   folderPrefix(c.Prefix),
		host:     host,
		expiry:   expiry,
		caps:     caps,
		location: c.Location,
		signedBy: &uploader.Signer{Credentials: credentialOrigin(creds.Source, awsCfg), Region: awsCfg.Region},
		client:   client,
		presign:  s3.NewPresignClient(client),
		// As the s3 client's own presigner: S3 signs the path as sent, not
		// escaped a second time.
		signer:    v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
		now:       time.Now,
		closeIdle: closeIdle,
		creds:     client.Options().Credentials,
		region:    client.Options().Region,
	}
	s.putBase = s.objectBase(ctx)
	return s, nil
}

// probeKey is the key presigned once to learn where the endpoint rules put
// a key in the URL.
const probeKey = "hoist-probe"

// objectBase presigns probeKey through the SDK and returns its URL up to the
// key: the base every object URL of this bucket shares.
func (s *S3) objectBase(ctx context.Context) string {
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(probeKey)},
		s.presignOptions(s.now()))
	if err != nil {
		return ""
	}
	before, _, _ := strings.Cut(req.URL, "?")
	base, ok := strings.CutSuffix(before, "/"+probeKey)
	if !ok {
		return ""
	}
	return base + "/"
}

// credentialOrigin says where the SDK found the keys (aws.Credentials'
// Source), in words a person can act on. Never a key.
func credentialOrigin(source string, cfg aws.Config) string {
	profile := "default"
	for _, cs := range cfg.ConfigSources {
		if sc, ok := cs.(config.SharedConfig); ok && sc.Profile != "" {
			profile = sc.Profile
		}
	}
	switch {
	case source == config.CredentialsSourceName:
		return "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
	case strings.HasPrefix(source, "SharedConfigCredentials"):
		file := strings.TrimSpace(strings.TrimPrefix(source, "SharedConfigCredentials:"))
		if file == "" || file == "SharedConfigCredentials" {
			return fmt.Sprintf("AWS profile %q", profile)
		}
		return fmt.Sprintf("AWS profile %q in %s", profile, file)
	case source == credentials.StaticCredentialsName:
		return "the access key and secret key hoist was given"
	case source == ssocreds.ProviderName:
		return fmt.Sprintf("the SSO login of AWS profile %q (aws sso login --profile %s)", profile, profile)
	case source == stscreds.ProviderName:
		return fmt.Sprintf("the role AWS profile %q assumes", profile)
	case source == stscreds.WebIdentityProviderName:
		return "the web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)"
	case source == processcreds.ProviderName:
		return fmt.Sprintf("the credential_process of AWS profile %q", profile)
	}
	return "the AWS credential chain (" + source + ")"
}

// apiError words an SDK call's refusal (CreateMultipartUpload, ListParts,
// …) as the engine words a refused PUT, against the credentials and region
// hoist signed with. It unwraps to the *uploader.ServerError, so retries
// classify it as they would the answer itself.
func (s *S3) apiError(err error, key string) error {
	err = sdkError(err)
	var se *uploader.ServerError
	if !errors.As(err, &se) {
		return err
	}
	return uploader.ExplainServerError(se, uploader.Target{Key: key, Signer: s.signedBy})
}

// Close lets go of the connections kept open to the store.
func (s *S3) Close() error {
	s.closeIdle()
	return nil
}

func loadAWSConfig(ctx context.Context, c S3Config) (aws.Config, error) {
	if (c.AccessKey == "") != (c.SecretKey == "") {
		return aws.Config{}, errors.New("S3 access key and secret key must be given together: set both, or neither to use the AWS credential chain")
	}
	if c.AccessKey != "" {
		// Static keys stand alone: a broken AWS_PROFILE on this machine must
		// not stop the embedded store.
		region := c.Region
		if region == "" {
			region = defaultS3Region
		}
		return aws.Config{
			Region:      region,
			Credentials: credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, ""),
		}, nil
	}

	var opts []func(*config.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return aws.Config{}, fmt.Errorf("AWS profile %q not found in ~/.aws/config or ~/.aws/credentials: fix AWS_PROFILE or add the profile: %w", missing.Profile, err)
		}
		return aws.Config{}, fmt.Errorf("loading AWS configuration: check AWS_* variables and ~/.aws/config: %w", err)
	}
	return awsCfg, nil
}

func folderPrefix(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// Describe names the bucket, prefix and host; never a credential.
func (s *S3) Describe() string {
	return "s3://" + s.bucket + "/" + s.prefix + " on " + s.host
}

func (s *S3) Capabilities() uploader.Capabilities { return s.caps }

// WantsChecksum is always true: every body's CRC32 is a signed header.
func (s *S3) WantsChecksum(uploader.File) bool { return true }

// Target presigns a PutObject for f. Calling it again signs a fresh URL.
func (s *S3) Target(ctx context.Context, f uploader.File, md uploader.Metadata) (uploader.Target, error) {
	if !f.HasCRC32 {
		return uploader.Target{}, uploader.Permanent(fmt.Errorf("signing %s: its CRC32 was not computed (the S3 source signs it)", f.Name))
	}
	key, err := s.objectKey(f)
	if err != nil {
		return uploader.Target{}, err
	}
	at := s.now()
	req, err := s.presignPut(ctx, key, md, f.CRC32, at)
	if err != nil {
		return uploader.Target{}, fmt.Errorf("signing an upload URL for %s (s3://%s/%s): %w", f.Name, s.bucket, key, err)
	}
	t := s.target(req, key, at)
	if s.location != nil {
		t.Location = s.location(key)
	}
	return t, nil
}

// presignPut signs a PutObject of key with the metadata and crc as signed
// headers: the request PresignPutObject makes (x-id=PutObject, X-Amz-Expires
// and an unsigned payload), signed by the v4 signer without the SDK's
// middleware stack and endpoint rules. TestPresignPutMatchesSDK holds the two
// to the same URL and headers.
func (s *S3) presignPut(ctx context.Context, key string, md uploader.Metadata, crc uint32, at time.Time) (*v4.PresignedHTTPRequest, error) {
	if s.putBase == "" {
		return s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(key),
			Metadata:      userMetadata(md),
			ChecksumCRC32: aws.String(inspect.EncodeCRC32(crc)),
		}, s.presignOptions(at))
	}
	raw := s.putBase + httpbinding.EscapePath(key, false) + "?X-Amz-Expires=" + strconv.FormatInt(int64(s.expiry/time.Second), 10) + "&x-id=PutObject"
	r, err := http.NewRequestWithContext(ctx, http.MethodPut, raw, nil)
	if err != nil {
		return nil, err
	}
	for name, v := range md.Values() {
		r.Header.Set(name, v)
	}
	r.Header.Set("X-Amz-Checksum-Crc32", inspect.EncodeCRC32(crc))
	creds, err := s.creds.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	u, signed, err := s.signer.PresignHTTP(ctx, creds, r, unsignedPayload, "s3", s.region, at)
	if err != nil {
		return nil, err
	}
	return &v4.PresignedHTTPRequest{URL: u, Method: http.MethodPut, SignedHeader: signed}, nil
}

// unsignedPayload is the payload hash of a presigned S3 request: the body is
// not known when the URL is made.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// PresignSample signs a PUT for key with only the metadata as signed headers,
// the shape of URL the API hands out, so any file can be sent with it (hoist
// serve prints one to try hoist --url or curl against the local store).
func (s *S3) PresignSample(ctx context.Context, key string, md uploader.Metadata) (uploader.Target, error) {
	at := s.now()
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(s.prefix + key),
		Metadata: userMetadata(md),
	}, s.presignOptions(at))
	if err != nil {
		return uploader.Target{}, fmt.Errorf("signing a sample URL: %w", err)
	}
	return s.target(req, s.prefix+key, at), nil
}

// presignOptions signs at a fixed time, so Target.Expires is exact and tests
// can sign in the past.
func (s *S3) presignOptions(at time.Time) func(*s3.PresignOptions) {
	return func(o *s3.PresignOptions) {
		o.Expires = s.expiry
		o.Presigner = signedAt{signer: s.signer, at: at}
	}
}

// target turns a presigned request into what the engine sends. Every signed
// header goes along with its exact value; Host comes from the URL.
func (s *S3) target(req *v4.PresignedHTTPRequest, key string, at time.Time) uploader.Target {
	h := make(http.Header, len(req.SignedHeader))
	for name, values := range req.SignedHeader {
		if strings.EqualFold(name, "Host") {
			continue
		}
		h[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
	}
	return uploader.Target{
		Method: req.Method,
		URL:    req.URL,
		Header: h,
		Key:    key,
		Signer: s.signedBy,
		// X-Amz-Date keeps whole seconds: the store counts from there.
		Expires: at.Truncate(time.Second).Add(s.expiry),
	}
}

// signedAt is the s3 presigner with the signing clock replaced.
type signedAt struct {
	signer *v4.Signer
	at     time.Time
}

func (p signedAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request,
	payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions),
) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

// userMetadata turns header names into the SDK's metadata keys
// (x-amz-meta-user-id → user-id).
func userMetadata(md uploader.Metadata) map[string]string {
	values := md.Values()
	m := make(map[string]string, len(values))
	for name, v := range values {
		m[strings.TrimPrefix(name, "x-amz-meta-")] = v
	}
	return m
}

// objectKey is where f goes: the prefix and the file's key, refused when a
// server would resolve it to somewhere else (fileset.CheckKey).
func (s *S3) objectKey(f uploader.File) (string, error) {
	key := s.prefix + f.Key
	if err := fileset.CheckKey(key); err != nil {
		return "", uploader.Permanent(fmt.Errorf("%s: %w", f.Name, err))
	}
	return key, nil
}

// CreateMultipart starts a multipart upload whose parts carry CRC32 checksums.
func (s *S3) CreateMultipart(ctx context.Context, f uploader.File, md uploader.Metadata) (uploader.Upload, error) {
	key, err := s.objectKey(f)
	if err != nil {
		return uploader.Upload{}, err
	}
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		Metadata:          userMetadata(md),
		ContentType:       aws.String("application/octet-stream"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return uploader.Upload{}, fmt.Errorf("starting a multipart upload of %s to s3://%s/%s: %w", f.Name, s.bucket, key, s.apiError(err, key))
	}
	return uploader.Upload{Key: key, UploadID: aws.ToString(out.UploadId)}, nil
}

// PartTarget presigns one UploadPart with that part's CRC32 as a signed header.
// The size is not signed: the engine sends an exact Content-Length, and the
// signed CRC32 already ties the URL to these bytes.
func (s *S3) PartTarget(ctx context.Context, u uploader.Upload, number int, _ int64, crc uint32) (uploader.Target, error) {
	at := s.now()
	req, err := s.presign.PresignUploadPart(ctx, &s3.UploadPartInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(u.Key),
		UploadId:      aws.String(u.UploadID),
		PartNumber:    aws.Int32(int32(number)),
		ChecksumCRC32: aws.String(inspect.EncodeCRC32(crc)),
	}, s.presignOptions(at))
	if err != nil {
		return uploader.Target{}, fmt.Errorf("signing part %d of s3://%s/%s: %w", number, s.bucket, u.Key, err)
	}
	return s.target(req, u.Key, at), nil
}

// ListParts reports the parts the store already has, for resuming. A part's
// CRC32 is 0 when the store does not report one.
func (s *S3) ListParts(ctx context.Context, u uploader.Upload) ([]uploader.Part, error) {
	var parts []uploader.Part
	pages := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(u.Key),
		UploadId: aws.String(u.UploadID),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the parts of s3://%s/%s: %w", s.bucket, u.Key, s.apiError(err, u.Key))
		}
		for _, p := range page.Parts {
			part := uploader.Part{
				Number: int(aws.ToInt32(p.PartNumber)),
				Size:   aws.ToInt64(p.Size),
				ETag:   aws.ToString(p.ETag),
			}
			part.CRC32, _ = inspect.DecodeCRC32(aws.ToString(p.ChecksumCRC32))
			parts = append(parts, part)
		}
	}
	return parts, nil
}

// CompleteMultipart joins the parts, each with the checksum it was sent with.
func (s *S3) CompleteMultipart(ctx context.Context, u uploader.Upload, parts []uploader.Part) (string, error) {
	sorted := slices.SortedFunc(slices.Values(parts), func(a, b uploader.Part) int { return cmp.Compare(a.Number, b.Number) })
	completed := make([]types.CompletedPart, len(sorted))
	for i, p := range sorted {
		completed[i] = types.CompletedPart{
			PartNumber:    aws.Int32(int32(p.Number)),
			ETag:          aws.String(p.ETag),
			ChecksumCRC32: aws.String(inspect.EncodeCRC32(p.CRC32)),
		}
	}
	out, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(u.Key),
		UploadId:        aws.String(u.UploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		return "", fmt.Errorf("completing the multipart upload of s3://%s/%s: %w", s.bucket, u.Key, s.apiError(err, u.Key))
	}
	return aws.ToString(out.ETag), nil
}

// AbortMultipart discards the parts, so a failed upload leaves nothing billed.
func (s *S3) AbortMultipart(ctx context.Context, u uploader.Upload) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(u.Key),
		UploadId: aws.String(u.UploadID),
	})
	if err != nil {
		return fmt.Errorf("aborting the multipart upload of s3://%s/%s: %w", s.bucket, u.Key, s.apiError(err, u.Key))
	}
	return nil
}

// sdkError turns an SDK failure into one clean line: an answer becomes the
// engine's ServerError (status, S3 code, message, Retry-After), so it is
// explained and retried by the same rules as a PUT's; a network failure
// keeps its cause without the SDK's wrapping ("operation error S3: …,
// https response error StatusCode: …, RequestID: , HostID: …").
func sdkError(err error) error {
	// The S3 client's answer errors wrap smithy's ResponseError a layer or
	// two deep (s3shared, awshttp); its methods are what they share.
	var re interface {
		HTTPStatusCode() int
		HTTPResponse() *smithyhttp.Response
	}
	if errors.As(err, &re) {
		se := &uploader.ServerError{Status: re.HTTPStatusCode()}
		if resp := re.HTTPResponse(); resp != nil && resp.Response != nil {
			se = uploader.ParseServerError(resp.StatusCode, resp.Header, nil)
		}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			// Held to the rules of a parsed answer: one line, no secret.
			clean := uploader.NewServerError(se.Status, ae.ErrorCode(), ae.ErrorMessage())
			se.Code, se.Message = clean.Code, clean.Message
		}
		return se
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) && se.Err != nil {
		return uploader.WithoutRequestURL(se.Err)
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
