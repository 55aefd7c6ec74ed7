// Writers (see Rendering).
