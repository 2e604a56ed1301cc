"""Recognising a person in crisis in a text or in speech, in English and
Spanish: rules written as content (flows/crisis/rules.yaml), and a learned
stage fitted on labelled examples (flows/crisis/train.yaml) for what no rule
lists. Nothing here logs the words it reads."""
