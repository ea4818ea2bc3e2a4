"""Spanish (español): the product's default language."""

from __future__ import annotations

from voxcliente.locales import FailureNotice, FailureNotices, Labels, Locale, PromptPhrases

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
    prompt=PromptPhrases(
        name="Spanish (español)",
        participant="Participante",
        agreement="Se acuerda",
        unknown_date="fecha no precisada",
        no_deadline_note="null (the document then shows 'Sin fecha definida')",
        past_examples="'Se revisó el calendario de entregas.', 'La Sra. Méndez indicó que ...'",
    ),
    labels=Labels(
        title="Acta de reunión",
        summary="Resumen",
        details="Datos de la reunión",
        date="Fecha",
        start_time="Hora de inicio",
        end_time="Hora de fin",
        modality="Modalidad",
        client="Cliente",
        duration="Duración",
        recording="Grabación",
        attendees="Asistentes",
        agenda="Orden del día",
        discussion="Desarrollo",
        decisions="Acuerdos",
        action_items="Tareas y responsables",
        task="Tarea",
        owner="Responsable",
        due_date="Fecha límite",
        no_date="Sin fecha definida",
        no_owner="Sin responsable definido",
        open_questions="Temas pendientes",
        next_meeting="Próxima reunión",
        purpose="Objetivo",
        date_unknown="Fecha no precisada",
        none_attendees="No se identificaron asistentes en la grabación.",
        none_agenda="No se identificaron temas.",
        none_decisions="No se registraron acuerdos.",
        none_action_items="No se asignaron tareas.",
        none_open_questions="No quedaron temas pendientes.",
        none_next_meeting="No se acordó una próxima reunión.",
        closing=(
            "Esta acta se generó automáticamente a partir de la grabación «{filename}». "
            "Revísela antes de compartirla."
        ),
        attachments_note=(
            "Se adjuntan una copia editable del acta en Word y la transcripción completa."
        ),
        reference="Referencia",
        transcript_title="Transcripción de la reunión",
        transcript_note="Transcripción automática: puede contener errores.",
        participant="Participante",
        no_utterances="La transcripción no contiene intervenciones.",
        acta_file="acta",
        transcript_file="transcripcion",
        default_title="reunión",
        what_happened="Qué ocurrió",
        what_to_do="Qué puede hacer",
        detail="Detalle técnico",
        automatic_notice="Este mensaje se envió automáticamente.",
        failure_kicker="Aviso sobre su grabación",
        emulated="Acta de demostración: no la escribió un modelo de lenguaje.",
    ),
    failures=FailureNotices(
        input_rejected=FailureNotice(
            headline="No pudimos procesar el archivo",
            happened="El archivo «{filename}» no se pudo convertir en un acta.",
            todo=(
                "Compruebe que es la grabación correcta y vuelva a subirla. Si el problema "
                "continúa, contacte con soporte indicando la referencia de este mensaje."
            ),
        ),
        not_audio=FailureNotice(
            headline="El archivo no es una grabación de audio",
            happened="El archivo «{filename}» no parece contener audio ni video.",
            todo=(
                "Suba la grabación en un formato de audio o video habitual (por ejemplo MP3, "
                "M4A, WAV o MP4)."
            ),
        ),
        empty_file=FailureNotice(
            headline="El archivo está vacío",
            happened="El archivo «{filename}» no contiene datos.",
            todo="Compruebe que la grabación se guardó por completo y vuelva a subirla.",
        ),
        too_large=FailureNotice(
            headline="El archivo es demasiado grande",
            happened="El archivo «{filename}» supera el tamaño máximo que podemos procesar.",
            todo=(
                "Divida la grabación en partes más cortas o expórtela en un formato "
                "comprimido (por ejemplo MP3) y vuelva a subirla."
            ),
        ),
        email_invalid=FailureNotice(
            headline="La dirección indicada no puede recibir el acta",
            happened=(
                "La dirección de correo indicada junto con el archivo «{filename}» no es una "
                "a la que podamos enviar el acta, por lo que no se ha procesado."
            ),
            todo=(
                "Vuelva a enviar el archivo indicando una dirección válida (sin acentos ni "
                "caracteres especiales antes de la @)."
            ),
        ),
        file_missing=FailureNotice(
            headline="El archivo ya no estaba disponible",
            happened=(
                "El archivo «{filename}» se borró o dejó de estar disponible antes de que "
                "pudiéramos procesarlo."
            ),
            todo="Vuelva a subir la grabación y no la borre hasta recibir el acta.",
        ),
        language_unsupported=FailureNotice(
            headline="El idioma indicado no se puede transcribir",
            happened=(
                "El idioma indicado junto con el archivo «{filename}» no es uno de los que el "
                "servicio de transcripción admite."
            ),
            todo=(
                "Vuelva a enviar el archivo con un código de idioma como «es», «es-MX» o "
                "«en-GB», o sin idioma para que se detecte automáticamente."
            ),
        ),
        transcription_failed=FailureNotice(
            headline="No pudimos transcribir la grabación",
            happened="El servicio de transcripción no pudo procesar la grabación «{filename}».",
            todo=(
                "Compruebe que el archivo se reproduce correctamente y vuelva a subirlo. Si "
                "el problema continúa, contacte con soporte indicando la referencia de este "
                "mensaje."
            ),
        ),
        no_speech=FailureNotice(
            headline="No se encontró habla en la grabación",
            happened=(
                "La grabación «{filename}» no contiene una conversación que se pueda "
                "transcribir, por lo que no se ha generado ningún acta."
            ),
            todo=(
                "Compruebe que el micrófono estaba activo y que subió el archivo correcto, y "
                "vuelva a subirlo."
            ),
        ),
        generation_failed=FailureNotice(
            headline="No pudimos redactar el acta",
            happened=(
                "La grabación «{filename}» se transcribió, pero no fue posible redactar el "
                "acta a partir de la transcripción."
            ),
            todo=(
                "Vuelva a subir la grabación más tarde. Si el problema continúa, contacte con "
                "soporte indicando la referencia de este mensaje."
            ),
        ),
        email_outcome_unknown=FailureNotice(
            headline="Puede que no haya recibido el acta",
            happened=(
                "Preparamos el acta de la grabación «{filename}», pero no podemos confirmar "
                "que se le haya enviado."
            ),
            todo=(
                "Si no la encuentra en su bandeja de entrada ni en la carpeta de correo no "
                "deseado, contacte con soporte indicando la referencia de este mensaje y se "
                "la enviaremos de nuevo."
            ),
        ),
        ses_rejected=FailureNotice(
            headline="No pudimos enviarle el acta",
            happened=(
                "El acta de la grabación «{filename}» se redactó, pero el servicio de correo "
                "no aceptó el mensaje."
            ),
            todo="Contacte con soporte indicando la referencia de este mensaje.",
        ),
        default=FailureNotice(
            headline="No pudimos generar el acta",
            happened="Ocurrió un error inesperado al procesar la grabación «{filename}».",
            todo=(
                "Vuelva a intentarlo más tarde. Si el problema continúa, contacte con soporte "
                "indicando la referencia de este mensaje."
            ),
        ),
    ),
    word_language_tag="es-ES",
)
