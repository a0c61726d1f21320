// The store-dependent test files, a third time: files in a bucket of the S3-compatible
// server that s3-server.cjs started, on PostgreSQL (the database of a fleet).
process.env.TEST_DATABASE = 'postgres';
process.env.TEST_STORAGE = 's3';
// The SDK reads region and credentials from here, as it would in production (moto takes
// any key; s3rver, the fallback, knows only its own).
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
// Node 20 is still supported; the SDK's notice that later versions will not be is not news here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
