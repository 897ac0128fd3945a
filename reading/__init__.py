"""Reading: document bytes in, typed pages out (text layers, fax normalisation, OCR)."""
