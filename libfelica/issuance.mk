# libfelica: the iD card application layout and the host-side issuance
# session (owned by H3b); see docs/libfelica-issuance.md.
libfelica_libfelica_la_SOURCES += \
	libfelica/felica_card.h \
	libfelica/felica_card.c \
	libfelica/felica_card_check.c \
	libfelica/felica_issuance.h \
	libfelica/felica_issuance_int.h \
	libfelica/felica_issuance.c \
	libfelica/felica_issuance_plan.c \
	libfelica/felica_issuance_result.c \
	libfelica/felica_issuance_codec.c
