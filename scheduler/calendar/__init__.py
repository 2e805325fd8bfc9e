"""Calendar feeds (iCalendar, RFC 5545) built from meetings; no Flask in here.

``feeds`` turns meetings into bytes; ``validators`` stores the ETag and Last-Modified that
let every worker answer a conditional GET without building the feed again.
"""
