module.exports = require('./s3-server.cjs').stop;
