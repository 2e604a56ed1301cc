"""Taking the line live: pointing the Twilio number at the service
(`helpline twilio setup`) and a fallback that does not depend on it
(`helpline fallback export`)."""
