"""Initial schema: cases and their records, reviews, meetings and agendas.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 20:34:54.718390
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "meeting",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("time", sa.String(length=5), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_date", ["date"], unique=False)

    op.create_table(
        "patient",
        sa.Column("mrn", sa.String(length=32), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=40), nullable=True),
        sa.Column("ecog", sa.Integer(), nullable=True),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("liver_background", sa.String(length=40), nullable=True),
        sa.Column("comorbidities", sa.JSON(), nullable=True),
        sa.Column("referring_clinician", sa.String(length=200), nullable=True),
        sa.Column("referral_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("liver_metastases_diagnosis_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resectability", sa.String(length=20), nullable=True),
        sa.Column("current_response", sa.String(length=4), nullable=True),
        sa.Column("open_warnings", sa.Integer(), nullable=False),
        sa.Column("open_criticals", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patient_mrn")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index("ix_patient_names", ["family_name", "given_name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_patient_resectability"), ["resectability"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_patient_search_text"), ["search_text"], unique=False)

    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_agenda_item_case_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_agenda_item_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agenda_item_case_meeting", ["case_id", "meeting_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agenda_item_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "chemotherapy_cycle",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("regimen", sa.String(length=40), nullable=False),
        sa.Column("biologic", sa.String(length=40), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("cycle_length_days", sa.Integer(), nullable=True),
        sa.Column("setting", sa.String(length=40), nullable=False),
        sa.Column("dose_percent", sa.Float(), nullable=True),
        sa.Column("toxicity_grade", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_chemotherapy_cycle_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chemotherapy_cycle")),
    )
    with op.batch_alter_table("chemotherapy_cycle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chemotherapy_cycle_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "extrahepatic_disease",
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("detected_on", sa.Date(), nullable=True),
        sa.Column("resectable", sa.Boolean(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_extrahepatic_disease_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extrahepatic_disease")),
    )
    with op.batch_alter_table("extrahepatic_disease", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extrahepatic_disease_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "imaging_timepoint",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("modality", sa.String(length=40), nullable=True),
        sa.Column("new_lesions", sa.Boolean(), nullable=True),
        sa.Column("non_target_progression", sa.Boolean(), nullable=True),
        sa.Column("extrahepatic_findings", sa.String(length=2000), nullable=True),
        sa.Column("total_liver_volume_ml", sa.Float(), nullable=True),
        sa.Column("flr_volume_ml", sa.Float(), nullable=True),
        sa.Column("flr_percent", sa.Float(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_imaging_timepoint_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imaging_timepoint")),
    )
    with op.batch_alter_table("imaging_timepoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imaging_timepoint_case_id"), ["case_id"], unique=False)

    op.create_table(
        "immunotherapy_dose",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("agent", sa.String(length=40), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=True),
        sa.Column("setting", sa.String(length=40), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_immunotherapy_dose_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_immunotherapy_dose")),
    )
    with op.batch_alter_table("immunotherapy_dose", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_immunotherapy_dose_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "lab_result",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("cea_ng_ml", sa.Float(), nullable=True),
        sa.Column("ast_u_l", sa.Float(), nullable=True),
        sa.Column("ast_uln_u_l", sa.Float(), nullable=True),
        sa.Column("platelets_10e9_l", sa.Float(), nullable=True),
        sa.Column("bilirubin_umol_l", sa.Float(), nullable=True),
        sa.Column("albumin_g_l", sa.Float(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_lab_result_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_result")),
    )
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_result_case_id"), ["case_id"], unique=False)

    op.create_table(
        "meeting_attendee",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_attendee_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_attendee")),
    )
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_attendee_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "molecular_profile",
        sa.Column("kras", sa.String(length=40), nullable=True),
        sa.Column("kras_variant", sa.String(length=40), nullable=True),
        sa.Column("nras", sa.String(length=40), nullable=True),
        sa.Column("nras_variant", sa.String(length=40), nullable=True),
        sa.Column("braf", sa.String(length=40), nullable=True),
        sa.Column("mmr", sa.String(length=40), nullable=True),
        sa.Column("msi", sa.String(length=40), nullable=True),
        sa.Column("her2", sa.String(length=40), nullable=True),
        sa.Column("tested_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_molecular_profile_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_molecular_profile")),
        sa.UniqueConstraint("case_id", name=op.f("uq_molecular_profile_case_id")),
    )
    op.create_table(
        "primary_tumour",
        sa.Column("site", sa.String(length=40), nullable=True),
        sa.Column("diagnosis_date", sa.Date(), nullable=True),
        sa.Column("histology", sa.String(length=40), nullable=True),
        sa.Column("grade", sa.String(length=40), nullable=True),
        sa.Column("t", sa.String(length=40), nullable=True),
        sa.Column("n", sa.String(length=40), nullable=True),
        sa.Column("staging_basis", sa.String(length=40), nullable=True),
        sa.Column("resection_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_primary_tumour_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_primary_tumour")),
        sa.UniqueConstraint("case_id", name=op.f("uq_primary_tumour_case_id")),
    )
    op.create_table(
        "procedure",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("procedure", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=True),
        sa.Column("lesion_ids", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_procedure_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure")),
    )
    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procedure_case_id"), ["case_id"], unique=False)

    op.create_table(
        "review",
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("question", sa.String(length=2000), nullable=True),
        sa.Column("recommendation", sa.String(length=40), nullable=True),
        sa.Column("decision", sa.String(length=10000), nullable=True),
        sa.Column("next_review_date", sa.Date(), nullable=True),
        sa.Column("signed_by", sa.String(length=200), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amends", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=True),
        sa.Column("follow_up", sa.JSON(), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["patient.id"], name=op.f("fk_review_case_id_patient"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_case_id"), ["case_id"], unique=False)

    op.create_table(
        "surgery_outcome",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("procedure", sa.String(length=40), nullable=True),
        sa.Column("margin_mm", sa.Float(), nullable=True),
        sa.Column("margin_status", sa.String(length=40), nullable=True),
        sa.Column("pathological_response", sa.String(length=40), nullable=True),
        sa.Column("clavien_dindo", sa.String(length=40), nullable=True),
        sa.Column("recurrence_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("recurrence_sites", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_surgery_outcome_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surgery_outcome")),
    )
    with op.batch_alter_table("surgery_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surgery_outcome_case_id"), ["case_id"], unique=False)

    op.create_table(
        "surgical_plan",
        sa.Column("resectability", sa.String(length=40), nullable=True),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("strategy", sa.String(length=40), nullable=True),
        sa.Column("sequence", sa.String(length=40), nullable=True),
        sa.Column("approach", sa.String(length=40), nullable=True),
        sa.Column("resection_type", sa.String(length=40), nullable=True),
        sa.Column("planned_flr_percent", sa.Float(), nullable=True),
        sa.Column("planned_regimen", sa.String(length=40), nullable=True),
        sa.Column("planned_biologic", sa.String(length=40), nullable=True),
        sa.Column("planned_immunotherapy", sa.String(length=40), nullable=True),
        sa.Column("planned_surgery_date", sa.Date(), nullable=True),
        sa.Column("surgeon", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("segments_to_resect", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["patient.id"],
            name=op.f("fk_surgical_plan_case_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surgical_plan")),
        sa.UniqueConstraint("case_id", name=op.f("uq_surgical_plan_case_id")),
    )
    op.create_table(
        "lesion_measurement",
        sa.Column("segment", sa.Integer(), nullable=True),
        sa.Column("longest_diameter_mm", sa.Float(), nullable=True),
        sa.Column("depth_mm", sa.Float(), nullable=True),
        sa.Column("target", sa.Boolean(), nullable=True),
        sa.Column("morphology_group", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("timepoint_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["timepoint_id"],
            ["imaging_timepoint.id"],
            name=op.f("fk_lesion_measurement_timepoint_id_imaging_timepoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("row_id", name=op.f("pk_lesion_measurement")),
    )
    with op.batch_alter_table("lesion_measurement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesion_measurement_timepoint_id"), ["timepoint_id"], unique=False
        )

    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=4000), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )


def downgrade() -> None:
    op.drop_table("setting")

    with op.batch_alter_table("lesion_measurement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesion_measurement_timepoint_id"))

    op.drop_table("lesion_measurement")
    op.drop_table("surgical_plan")
    with op.batch_alter_table("surgery_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surgery_outcome_case_id"))

    op.drop_table("surgery_outcome")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_case_id"))

    op.drop_table("review")
    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedure_case_id"))

    op.drop_table("procedure")
    op.drop_table("primary_tumour")
    op.drop_table("molecular_profile")
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_attendee_meeting_id"))

    op.drop_table("meeting_attendee")
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_result_case_id"))

    op.drop_table("lab_result")
    with op.batch_alter_table("immunotherapy_dose", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_immunotherapy_dose_case_id"))

    op.drop_table("immunotherapy_dose")
    with op.batch_alter_table("imaging_timepoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imaging_timepoint_case_id"))

    op.drop_table("imaging_timepoint")
    with op.batch_alter_table("extrahepatic_disease", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extrahepatic_disease_case_id"))

    op.drop_table("extrahepatic_disease")
    with op.batch_alter_table("chemotherapy_cycle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chemotherapy_cycle_case_id"))

    op.drop_table("chemotherapy_cycle")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_meeting_id"))
        batch_op.drop_index("ix_agenda_item_case_meeting")

    op.drop_table("agenda_item")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_search_text"))
        batch_op.drop_index(batch_op.f("ix_patient_resectability"))
        batch_op.drop_index("ix_patient_names")

    op.drop_table("patient")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_date")

    op.drop_table("meeting")
