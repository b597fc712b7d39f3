# sample configuration and its installation
#
# make install (DESTDIR honoured) puts, under $(APXS_SYSCONFDIR) (Debian:
# /etc/apache2; with another --prefix: $(sysconfdir)/apache2):
#   mods-available/idgw_{session,acl,convert,status}.{load,conf}
#                         a2enmod idgw_acl idgw_convert idgw_status (acl's and
#                         convert's "# Depends:" lines pull in idgw_session)
#   sites-available/idgw-ssl.conf                           the TLS virtual host (a2ensite idgw-ssl)
#   idgw/idgw-map.conf                                      the telegram mapping (IdgwConvertMap)
#   idgw/idgw.conf.sample                                   everything in one file, for other layouts
# The modules themselves go to $(APXS_LIBEXECDIR) (modules_LTLIBRARIES).
# The Debian packages (debian/) install the same files: dh_apache2 takes
# mods-available and sites-available from conf.d/debian, the map from this
# install.
idgwmodsdir = $(APXS_SYSCONFDIR)/mods-available
dist_idgwmods_DATA = \
	conf.d/debian/mods-available/idgw_session.load conf.d/debian/mods-available/idgw_session.conf \
	conf.d/debian/mods-available/idgw_acl.load conf.d/debian/mods-available/idgw_acl.conf \
	conf.d/debian/mods-available/idgw_convert.load conf.d/debian/mods-available/idgw_convert.conf \
	conf.d/debian/mods-available/idgw_status.load conf.d/debian/mods-available/idgw_status.conf
# the TLS virtual host: a2ensite idgw-ssl (with a2enmod ssl headers)
idgwsitesdir = $(APXS_SYSCONFDIR)/sites-available
dist_idgwsites_DATA = conf.d/debian/sites-available/idgw-ssl.conf
idgwetcdir = $(APXS_SYSCONFDIR)/idgw
dist_idgwetc_DATA = conf.d/idgw-map.conf
EXTRA_DIST += conf.d/idgw.conf conf.d/redis/idgw-replicated.conf

# monitoring: a Grafana dashboard and Prometheus alerting rules with their
# promtool unit tests, on the counters of mod_idgw_status (docs/directives.md);
# t/status_rules.t checks them against the handler (make check-integration)
IDGW_MONITORING_FILES = conf.d/grafana/idgw-dashboard.json \
	conf.d/prometheus/idgw-alerts.yml conf.d/prometheus/idgw-alerts.test.yml
EXTRA_DIST += $(IDGW_MONITORING_FILES)

install-data-local: install-idgw-sample
install-idgw-sample:
	$(MKDIR_P) "$(DESTDIR)$(idgwetcdir)"
	$(INSTALL_DATA) $(srcdir)/conf.d/idgw.conf "$(DESTDIR)$(idgwetcdir)/idgw.conf.sample"

uninstall-local: uninstall-idgw-sample
uninstall-idgw-sample:
	rm -f "$(DESTDIR)$(idgwetcdir)/idgw.conf.sample"

.PHONY: install-idgw-sample uninstall-idgw-sample
