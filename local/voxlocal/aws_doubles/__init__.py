"""Strict AWS doubles: the rules of S3 and SES that moto leaves out, enforced.

moto stores whatever a browser POSTs to a bucket and sends mail of any size.
This package adds, in front of or around moto:

* :mod:`.post_policy`: S3's evaluation of a browser-based upload (a presigned
  POST): the SigV4 signature of the policy, its expiration and every condition
  against the form fields and the file size, refused with the error S3 answers;
* :mod:`.moto_server`: :class:`PostPolicyMiddleware` applies that check to every
  form POST a moto server receives, and :class:`StrictMotoServer` is moto's
  threaded server with the middleware in front;
* :mod:`.ses_rules`: :func:`strict_ses` makes SES v2 ``SendEmail`` refuse a
  sender that is not a verified identity, a message over 40 MB, a configuration
  set the account does not have and message tags outside SES's character set,
  as SES does.
"""

from voxlocal.aws_doubles.moto_server import PostPolicyMiddleware, StrictMotoServer, post_bucket
from voxlocal.aws_doubles.post_policy import (
    MAX_PRE_DATA_BYTES,
    PostForm,
    S3Error,
    check_post_policy,
    parse_form,
)
from voxlocal.aws_doubles.ses_rules import (
    SES_TAG_MAX_CHARS,
    SES_V2_MAX_MESSAGE_BYTES,
    check_email_tags,
    sender_addresses,
    strict_ses,
)

__all__ = [
    "MAX_PRE_DATA_BYTES",
    "SES_TAG_MAX_CHARS",
    "SES_V2_MAX_MESSAGE_BYTES",
    "PostForm",
    "PostPolicyMiddleware",
    "S3Error",
    "StrictMotoServer",
    "check_email_tags",
    "check_post_policy",
    "parse_form",
    "post_bucket",
    "sender_addresses",
    "strict_ses",
]
