/* One member of a group, driven line by line: the C-ABI twin of examples/chat.rs, so a test can put
 * peers of another platform (the Windows DLL under Wine) in one mesh with native ones.
 *
 *   mesh_peer SIGNALING_URL --host NAME     creates the group NAME
 *   mesh_peer SIGNALING_URL --join HOST_ID  joins the group of HOST_ID
 *
 * Every stdin line is sent as text to every open "chat" channel (made by the offerer in the
 * pc-create hook, as in the seed's sample); end of input stops the client and exits. Output, one
 * line each, flushed: `ready <own id>`, `open <peer id>`, `recv <peer id> <text>`,
 * `event <number> <arg>`, `sent <count>`, `bye`; errors go to stderr with exit code 1. Binds
 * 127.0.0.1 only. P2P_SMOKE_TIME_FACTOR (default 1) stretches the timeouts. */
#include "webrtc_p2p.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PEERS 16

/* One peer connection's chat channel; `peer` is fixed when the connection is created. */
typedef struct {
    char peer[128];
    int32_t dc;
    int open;
} slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static slot slots[MAX_PEERS];
static int slot_count;
static int have_result, result_status;
static char result_json[1024];

/* Library threads and the main thread print; one line at a time, flushed at once for the reader. */
static void say(const char *fmt, ...) {
    static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&out);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out);
    va_end(ap);
}

static void on_result(void *ud, int32_t request, int32_t status, const char *json) {
    (void)ud;
    (void)request;
    pthread_mutex_lock(&mu);
    result_status = status;
    snprintf(result_json, sizeof result_json, "%s", json ? json : "");
    have_result = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_event(void *ud, int32_t client, int32_t event, const char *arg) {
    (void)ud;
    (void)client;
    say("event %d %s", event, arg ? arg : "");
}

static void on_open(void *ud, int32_t dc) {
    slot *s = ud;
    pthread_mutex_lock(&mu);
    s->dc = dc;
    s->open = 1;
    pthread_mutex_unlock(&mu);
    say("open %s", s->peer);
}

static void on_close(void *ud, int32_t dc) {
    slot *s = ud;
    (void)dc;
    pthread_mutex_lock(&mu);
    s->open = 0;
    pthread_mutex_unlock(&mu);
}

static void on_message(void *ud, int32_t dc, const uint8_t *data, int32_t len, bool is_text) {
    slot *s = ud;
    (void)dc;
    if (is_text) say("recv %s %.*s", s->peer, (int)len, (const char *)data);
}

static void on_remote_dc(void *ud, int32_t dc) {
    char label[32];
    int32_t n = p2p_dc_get_label(dc, label, sizeof label);
    if (n > 0 && n <= (int32_t)sizeof label && strcmp(label, "chat") == 0) p2p_dc_set_callbacks(dc, on_open, on_close, on_message, ud);
}

static void on_pc_create(void *ud, int32_t client, const char *peer_id, bool is_offer, int32_t pc) {
    (void)ud;
    (void)client;
    pthread_mutex_lock(&mu);
    if (slot_count == MAX_PEERS) {
        pthread_mutex_unlock(&mu);
        fprintf(stderr, "mesh_peer: more than %d peers\n", MAX_PEERS);
        return;
    }
    slot *s = &slots[slot_count++];
    snprintf(s->peer, sizeof s->peer, "%s", peer_id);
    pthread_mutex_unlock(&mu);
    if (is_offer) {
        int32_t dc = p2p_pc_create_data_channel(pc, "chat", NULL);
        if (dc <= 0) {
            fprintf(stderr, "mesh_peer: create dc failed: %d\n", dc);
            return;
        }
        p2p_dc_set_callbacks(dc, on_open, on_close, on_message, s);
    } else {
        p2p_pc_set_data_channel_callback(pc, on_remote_dc, s);
    }
}

static int fail(const char *what, int32_t code) {
    char err[512];
    p2p_get_last_error(err, sizeof err);
    fprintf(stderr, "mesh_peer: %s failed: %d %s %s\n", what, code, err, result_json);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[2], "--host") != 0 && strcmp(argv[2], "--join") != 0)) {
        fprintf(stderr, "usage: mesh_peer SIGNALING_URL (--host NAME | --join HOST_ID)\n");
        return 2;
    }
    int factor = 1;
    const char *f = getenv("P2P_SMOKE_TIME_FACTOR");
    if (f && atoi(f) > 0) factor = atoi(f);

    char config[1024];
    snprintf(config, sizeof config,
             "{\"signalingUrl\":\"%s\",\"bindAddresses\":[\"127.0.0.1:0\"],\"p2pTimeoutMs\":%d,"
             "\"socket\":{\"connectionTimeoutMs\":%d}}",
             argv[1], 30000 * factor, 5000 * factor);
    int32_t c = p2p_client_create(config);
    if (c <= 0) return fail("create", c);
    p2p_client_set_event_callback(c, on_event, NULL);
    p2p_client_add_pc_create_hook(c, on_pc_create, NULL);

    int host = strcmp(argv[2], "--host") == 0;
    int32_t req = host ? p2p_client_start_host(c, argv[3], on_result, NULL) : p2p_client_start_client(c, argv[3], on_result, NULL);
    if (req <= 0) return fail("start request", req);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60 * factor; /* the library's own P2P timeout ends a join well before */
    pthread_mutex_lock(&mu);
    while (!have_result) {
        if (pthread_cond_timedwait(&cv, &mu, &deadline) != 0) break;
    }
    int status = have_result ? result_status : P2P_ERR_TIMEOUT;
    pthread_mutex_unlock(&mu);
    if (status != P2P_OK) return fail(host ? "start_host" : "start_client", status);

    char id[128];
    int32_t n = p2p_client_get_id(c, id, sizeof id);
    if (n <= 1 || n > (int32_t)sizeof id) return fail("get_id", n);
    say("ready %s", id);

    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        int32_t dcs[MAX_PEERS];
        int count = 0, sent = 0;
        pthread_mutex_lock(&mu);
        for (int i = 0; i < slot_count; i++)
            if (slots[i].open) dcs[count++] = slots[i].dc;
        pthread_mutex_unlock(&mu);
        for (int i = 0; i < count; i++) {
            int32_t rc = p2p_dc_send(dcs[i], (const uint8_t *)line, (int32_t)strlen(line), true);
            if (rc == P2P_OK) sent++;
            else fprintf(stderr, "mesh_peer: send failed: %d\n", rc);
        }
        say("sent %d", sent);
    }

    if (p2p_client_destroy(c) != P2P_OK) return fail("destroy", -1);
    if (p2p_shutdown() != P2P_OK) return fail("shutdown", -1);
    say("bye");
    return 0;
}
