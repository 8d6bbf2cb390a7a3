/* A CycloneDDS participant on one domain and one network interface, with
 * readers and writers made the way unitree_sdk2's channels make them. */
#include "unitree_dds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_unitree_dds {
  dds_entity_t domain;
  dds_entity_t participant;
};

static bool interface_name_ok(const char *name)
{
  for (const char *c = name; *c; c++)
    if (!isalnum((unsigned char)*c) && !strchr("._-:", *c)) return false;
  return strlen(name) < 64;
}

int tp_unitree_dds_config_xml(const char *interface, char *out, size_t out_size)
{
  /* An address (it has a '.' or ':' and starts with a digit or ':') is
   * given as such; anything else is an interface name. */
  if (!interface || !*interface)
    return snprintf(out, out_size, "<CycloneDDS><Domain Id=\"any\"></Domain></CycloneDDS>");
  bool address = (isdigit((unsigned char)interface[0]) || interface[0] == ':') &&
                 strpbrk(interface, ".:") != NULL;
  return snprintf(out, out_size,
                  "<CycloneDDS><Domain Id=\"any\"><General><Interfaces>"
                  "<NetworkInterface %s=\"%s\" priority=\"default\" multicast=\"default\"/>"
                  "</Interfaces></General></Domain></CycloneDDS>",
                  address ? "address" : "name", interface);
}

struct tp_unitree_dds *tp_unitree_dds_open(uint32_t domain_id, const char *interface, char *err,
                                           size_t err_size)
{
  if (domain_id > 232) { /* DDSI port mapping leaves 0..232 */
    snprintf(err, err_size, "unitree: domain id %u out of range 0..232", domain_id);
    return NULL;
  }
  if (interface && !interface_name_ok(interface)) {
    snprintf(err, err_size, "unitree: network interface '%s' is not an interface name or address", interface);
    return NULL;
  }
  char xml[512];
  if (tp_unitree_dds_config_xml(interface, xml, sizeof xml) >= (int)sizeof xml) {
    snprintf(err, err_size, "unitree: network interface name too long");
    return NULL;
  }
  struct tp_unitree_dds *dds = calloc(1, sizeof *dds);
  if (!dds) {
    snprintf(err, err_size, "unitree: out of memory");
    return NULL;
  }
  dds->domain = dds_create_domain(domain_id, xml);
  if (dds->domain < 0) {
    snprintf(err, err_size, "unitree: cannot create DDS domain %u on interface '%s': %s", domain_id,
             interface && *interface ? interface : "(default)", dds_strretcode(dds->domain));
    free(dds);
    return NULL;
  }
  dds->participant = dds_create_participant(domain_id, NULL, NULL);
  if (dds->participant < 0) {
    snprintf(err, err_size, "unitree: cannot create DDS participant on domain %u: %s", domain_id,
             dds_strretcode(dds->participant));
    dds_delete(dds->domain);
    free(dds);
    return NULL;
  }
  return dds;
}

dds_entity_t tp_unitree_dds_participant(const struct tp_unitree_dds *dds) { return dds->participant; }

/* unitree_sdk2's channels are created without a QoS, so CycloneDDS's
 * defaults apply; they are set here explicitly (the unitree test checks they
 * equal the defaults): writers reliable with 100 ms maximum blocking,
 * readers best effort (which matches any writer), history keep-last 1,
 * volatile. A control stream wants the newest sample, never a queue. */
static dds_qos_t *channel_qos(bool writer)
{
  dds_qos_t *qos = dds_create_qos();
  if (!qos) return NULL;
  if (writer)
    dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  else
    dds_qset_reliability(qos, DDS_RELIABILITY_BEST_EFFORT, 0);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 1);
  dds_qset_durability(qos, DDS_DURABILITY_VOLATILE);
  return qos;
}

static dds_entity_t endpoint(struct tp_unitree_dds *dds, const char *topic_name,
                             const dds_topic_descriptor_t *type, bool writer)
{
  dds_entity_t topic = dds_create_topic(dds->participant, type, topic_name, NULL, NULL);
  if (topic < 0) return topic;
  dds_qos_t *qos = channel_qos(writer);
  if (!qos) return DDS_RETCODE_OUT_OF_RESOURCES;
  dds_entity_t e = writer ? dds_create_writer(dds->participant, topic, qos, NULL)
                          : dds_create_reader(dds->participant, topic, qos, NULL);
  dds_delete_qos(qos);
  return e;
}

dds_entity_t tp_unitree_dds_writer(struct tp_unitree_dds *dds, const char *topic,
                                   const dds_topic_descriptor_t *type)
{
  return endpoint(dds, topic, type, true);
}

dds_entity_t tp_unitree_dds_reader(struct tp_unitree_dds *dds, const char *topic,
                                   const dds_topic_descriptor_t *type)
{
  return endpoint(dds, topic, type, false);
}

void tp_unitree_dds_close(struct tp_unitree_dds *dds)
{
  if (!dds) return;
  dds_delete(dds->participant);
  dds_delete(dds->domain);
  free(dds);
}
