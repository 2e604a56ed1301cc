"""Who is on the other end: a withheld caller ID never to be called back, and
the numbers operators blocked."""
