"""Reading source images: PNG (own chunk checks, libpng), JPEG, TIFF, and their EXIF."""
