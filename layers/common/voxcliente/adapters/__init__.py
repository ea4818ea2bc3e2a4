"""The edges: PostgreSQL, AWS (S3, SQS, SES), AssemblyAI and OpenAI.

SDK errors are mapped here to the domain's errors; nothing above this package
imports an SDK."""
