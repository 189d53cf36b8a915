// Presigns S3 PutObject URLs with the AWS JS SDK v3, the way the API page
// that hands out hoist's URLs does. hoist's conformance tests run it (see
// jspresign.go) to get URLs from the real JS presigner rather than a copy.
//
// Input: on stdin, a JSON array of requests, each
//   {"endpoint": "http://127.0.0.1:PORT", "region": "auto",
//    "accessKey": "…", "secretKey": "…", "bucket": "b", "key": "k",
//    "metadata": {"organization-id": "…"},   // without the x-amz-meta- prefix
//    "expires": 3600,
//    "noPin": false,   // true: WHEN_REQUIRED, no x-amz-checksum-crc32 in the query
//    "hoist": false}   // true: let the SDK hoist the metadata into the query
// Output: one URL a line on stdout, in the order of the requests; nothing
// else. One process signs them all: node starts slowly on a busy machine.
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

async function presign(o) {
  const client = new S3Client({
    endpoint: o.endpoint,
    region: o.region,
    forcePathStyle: true,
    credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secretKey },
    // WHEN_SUPPORTED (the default since 3.729) pins the CRC32 of the empty
    // body the presigner sees: x-amz-checksum-crc32=AAAAAA==.
    requestChecksumCalculation: o.noPin ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
  });
  const metadata = o.metadata || {};
  const names = Object.keys(metadata).map((k) => "x-amz-meta-" + k.toLowerCase());
  return getSignedUrl(
    client,
    new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Metadata: metadata }),
    {
      expiresIn: o.expires || 3600,
      // Kept as signed headers, as the API does, unless asked to hoist.
      unhoistableHeaders: o.hoist ? new Set() : new Set(names),
    },
  );
}

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const requests = JSON.parse(Buffer.concat(chunks).toString("utf8"));
let out = "";
for (const o of requests) out += (await presign(o)) + "\n";
process.stdout.write(out);
