"""What every part shares and nothing depends on: the clock, errors, models, validation, signing, weeks."""
