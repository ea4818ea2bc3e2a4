"""English: also the labels of any language without a module of its own."""

from __future__ import annotations

from voxcliente.locales import FailureNotice, FailureNotices, Labels, Locale, PromptPhrases

LOCALE = Locale(
    language="en",
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    date_pattern="{month} {day}, {year}",
    prompt=PromptPhrases(
        name="English",
        participant="Participant",
        agreement="It was agreed",
        unknown_date="date not specified",
        no_deadline_note="null (the document then shows 'No date set')",
        past_examples="'The delivery schedule was reviewed.', 'Ms. Méndez stated that ...'",
    ),
    labels=Labels(
        title="Meeting minutes",
        summary="Summary",
        details="Meeting details",
        date="Date",
        start_time="Start time",
        end_time="End time",
        modality="Format",
        client="Client",
        duration="Duration",
        recording="Recording",
        attendees="Attendees",
        agenda="Agenda",
        discussion="Discussion",
        decisions="Decisions",
        action_items="Action items",
        task="Task",
        owner="Owner",
        due_date="Due date",
        no_date="No date set",
        no_owner="No owner set",
        open_questions="Open questions",
        next_meeting="Next meeting",
        purpose="Purpose",
        date_unknown="Date not stated",
        none_attendees="No attendees could be identified in the recording.",
        none_agenda="No topics were identified.",
        none_decisions="No decisions were recorded.",
        none_action_items="No action items were assigned.",
        none_open_questions="No open questions remained.",
        none_next_meeting="No next meeting was agreed.",
        closing=(
            "These minutes were generated automatically from the recording “{filename}”. "
            "Please review them before sharing."
        ),
        attachments_note=(
            "An editable Word copy of the minutes and the full transcript are attached."
        ),
        reference="Reference",
        transcript_title="Meeting transcript",
        transcript_note="Automatic transcript: it may contain errors.",
        participant="Participant",
        no_utterances="The transcript contains no speech.",
        acta_file="minutes",
        transcript_file="transcript",
        default_title="meeting",
        what_happened="What happened",
        what_to_do="What you can do",
        detail="Technical detail",
        automatic_notice="This message was sent automatically.",
        failure_kicker="About your recording",
        emulated="Demonstration minutes: not written by a language model.",
    ),
    failures=FailureNotices(
        input_rejected=FailureNotice(
            headline="We could not process the file",
            happened="The file “{filename}” could not be turned into minutes.",
            todo=(
                "Check that it is the right recording and upload it again. If the problem "
                "persists, contact support quoting the reference of this message."
            ),
        ),
        not_audio=FailureNotice(
            headline="The file is not an audio recording",
            happened="The file “{filename}” does not seem to contain audio or video.",
            todo=(
                "Upload the recording in a common audio or video format (for example MP3, "
                "M4A, WAV or MP4)."
            ),
        ),
        empty_file=FailureNotice(
            headline="The file is empty",
            happened="The file “{filename}” contains no data.",
            todo="Check that the recording was saved completely and upload it again.",
        ),
        too_large=FailureNotice(
            headline="The file is too large",
            happened="The file “{filename}” exceeds the largest size we can process.",
            todo=(
                "Split the recording into shorter parts or export it in a compressed format "
                "(for example MP3) and upload it again."
            ),
        ),
        email_invalid=FailureNotice(
            headline="The address given cannot receive the minutes",
            happened=(
                "The email address given with the file “{filename}” is not one we can send "
                "the minutes to, so the file was not processed."
            ),
            todo=(
                "Send the file again with a valid address (no accents or special characters "
                "before the @)."
            ),
        ),
        file_missing=FailureNotice(
            headline="The file was no longer available",
            happened=(
                "The file “{filename}” was deleted or became unavailable before we could "
                "process it."
            ),
            todo="Upload the recording again and keep it until the minutes arrive.",
        ),
        language_unsupported=FailureNotice(
            headline="The language given cannot be transcribed",
            happened=(
                "The language given with the file “{filename}” is not one the transcription "
                "service supports."
            ),
            todo=(
                "Send the file again with a language code such as “es”, “es-MX” or “en-GB”, "
                "or without a language to have it detected."
            ),
        ),
        transcription_failed=FailureNotice(
            headline="We could not transcribe the recording",
            happened="The transcription service could not process the recording “{filename}”.",
            todo=(
                "Check that the file plays correctly and upload it again. If the problem "
                "persists, contact support quoting the reference of this message."
            ),
        ),
        no_speech=FailureNotice(
            headline="No speech was found in the recording",
            happened=(
                "The recording “{filename}” contains no conversation that could be "
                "transcribed, so no minutes were produced."
            ),
            todo=(
                "Check that the microphone was on and that you uploaded the right file, then "
                "upload it again."
            ),
        ),
        generation_failed=FailureNotice(
            headline="We could not write the minutes",
            happened=(
                "The recording “{filename}” was transcribed, but the minutes could not be "
                "written from the transcript."
            ),
            todo=(
                "Upload the recording again later. If the problem persists, contact support "
                "quoting the reference of this message."
            ),
        ),
        email_outcome_unknown=FailureNotice(
            headline="You may not have received the minutes",
            happened=(
                "We prepared the minutes of the recording “{filename}”, but cannot confirm "
                "that they were sent to you."
            ),
            todo=(
                "If you cannot find them in your inbox or spam folder, contact support "
                "quoting the reference of this message and we will send them again."
            ),
        ),
        ses_rejected=FailureNotice(
            headline="We could not send you the minutes",
            happened=(
                "The minutes of the recording “{filename}” were written, but the email "
                "service did not accept the message."
            ),
            todo="Contact support quoting the reference of this message.",
        ),
        default=FailureNotice(
            headline="We could not produce the minutes",
            happened="Something unexpected went wrong while processing the recording “{filename}”.",
            todo=(
                "Try again later. If the problem persists, contact support quoting the "
                "reference of this message."
            ),
        ),
    ),
    word_language_tag="en-US",
)
