# Check tests of the convert module's internals
CONVERT_UNIT_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/modules $(APXS_CPPFLAGS) $(APR_CFLAGS) \
	$(APU_CFLAGS) $(XML2_CFLAGS) $(HIREDIS_CFLAGS) -DIDGW_SRCDIR='"$(abs_top_srcdir)"'
CONVERT_UNIT_LIBS = modules/libidgw_convert.la modules/libidgw_backend.la modules/libidgw.la \
	$(UNIT_LIBS) $(XML2_LIBS) $(APU_LIBS) $(APR_LIBS) $(HIREDIS_LIBS)

check_PROGRAMS += t/unit/test_sp_xml t/unit/test_sp_request t/unit/test_convert_map
TESTS += t/unit/test_sp_xml t/unit/test_sp_request t/unit/test_convert_map
t_unit_test_sp_xml_SOURCES = t/unit/test_sp_xml.c
t_unit_test_sp_xml_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_test_sp_xml_LDADD = $(CONVERT_UNIT_LIBS)
t_unit_test_sp_request_SOURCES = t/unit/test_sp_request.c
t_unit_test_sp_request_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_test_sp_request_LDADD = $(CONVERT_UNIT_LIBS)
t_unit_test_convert_map_SOURCES = t/unit/test_convert_map.c
t_unit_test_convert_map_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_test_convert_map_LDADD = $(CONVERT_UNIT_LIBS)

# the engine against fake backends and libfelica's chip emulator (iss_fixture)
check_PROGRAMS += t/unit/test_convert_engine
TESTS += t/unit/test_convert_engine
t_unit_test_convert_engine_SOURCES = t/unit/test_convert_engine.c t/unit/iss_fixture.c \
	t/unit/iss_fixture.h
t_unit_test_convert_engine_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_test_convert_engine_LDADD = $(CONVERT_UNIT_LIBS)

check_PROGRAMS += t/unit/test_convert_answer
TESTS += t/unit/test_convert_answer
t_unit_test_convert_answer_SOURCES = t/unit/test_convert_answer.c
t_unit_test_convert_answer_CFLAGS = $(CONVERT_UNIT_CFLAGS)
t_unit_test_convert_answer_LDADD = $(CONVERT_UNIT_LIBS)
