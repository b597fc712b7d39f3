# libfelica/issuance: the iD card application layout and the host-side
# issuance session (docs/libfelica-issuance.md).
libfelica_libfelica_la_SOURCES += \
	libfelica/issuance/felica_card.h \
	libfelica/issuance/felica_card.c \
	libfelica/issuance/felica_card_check.c \
	libfelica/issuance/felica_issuance.h \
	libfelica/issuance/felica_issuance_int.h \
	libfelica/issuance/felica_issuance.c \
	libfelica/issuance/felica_issuance_plan.c \
	libfelica/issuance/felica_issuance_result.c \
	libfelica/issuance/felica_issuance_codec.c
