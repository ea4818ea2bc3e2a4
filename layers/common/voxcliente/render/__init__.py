"""What a person reads: the acta email (HTML and text), the .docx and failure notices."""
