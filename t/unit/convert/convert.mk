# modules/convert: the app's XML, request checks, the map, the engine against
# fake backends and libfelica's chip emulator (iss_fixture), the answers.
CONVERT_UNIT_CFLAGS = $(UNIT_CFLAGS) $(IDGW_CONVERT_CPPFLAGS) \
	-I$(top_srcdir)/t/unit/issuance -DIDGW_SRCDIR='"$(abs_top_srcdir)"'
CONVERT_UNIT_LIBS = modules/convert/libidgw_convert.la modules/backend/libidgw_backend.la \
	modules/common/libidgw_common.la $(UNIT_LIBS) $(XML2_LIBS) $(APU_LIBS) $(APR_LIBS)
check_PROGRAMS += t/unit/convert/test_sp_xml t/unit/convert/test_sp_request \
	t/unit/convert/test_convert_map t/unit/convert/test_convert_engine \
	t/unit/convert/test_convert_answer t/unit/convert/test_sp_wipe
TESTS += t/unit/convert/test_sp_xml t/unit/convert/test_sp_request \
	t/unit/convert/test_convert_map t/unit/convert/test_convert_engine \
	t/unit/convert/test_convert_answer t/unit/convert/test_sp_wipe
t_unit_convert_test_sp_xml_SOURCES = t/unit/convert/test_sp_xml.c
t_unit_convert_test_sp_xml_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_convert_test_sp_xml_LDADD = $(CONVERT_UNIT_LIBS)
t_unit_convert_test_sp_request_SOURCES = t/unit/convert/test_sp_request.c
t_unit_convert_test_sp_request_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_convert_test_sp_request_LDADD = $(CONVERT_UNIT_LIBS)
t_unit_convert_test_convert_map_SOURCES = t/unit/convert/test_convert_map.c
t_unit_convert_test_convert_map_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_convert_test_convert_map_LDADD = $(CONVERT_UNIT_LIBS)
t_unit_convert_test_convert_engine_SOURCES = t/unit/convert/test_convert_engine.c \
	$(ISS_FIXTURE)
t_unit_convert_test_convert_engine_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_convert_test_convert_engine_LDADD = $(CONVERT_UNIT_LIBS)
t_unit_convert_test_convert_answer_SOURCES = t/unit/convert/test_convert_answer.c
t_unit_convert_test_convert_answer_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_convert_test_convert_answer_LDADD = $(CONVERT_UNIT_LIBS)
t_unit_convert_test_sp_wipe_SOURCES = t/unit/convert/test_sp_wipe.c
t_unit_convert_test_sp_wipe_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_convert_test_sp_wipe_LDADD = $(CONVERT_UNIT_LIBS)
