"""The helpline: a phone menu, texts and counselors on call, as a Flask app
(`ivr.app`), its core domains, and the processes that run them."""
