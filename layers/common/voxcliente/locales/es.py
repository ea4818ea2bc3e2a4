"""Spanish (español): the product's default language."""

from __future__ import annotations

from voxcliente.locales import Locale

LOCALE = Locale(
    language="es",
    months=(
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    date_pattern="{day} de {month} de {year}",
)
