/* A real C caller of webrtc_p2p: hosts a group, joins it with a second client, exchanges one
 * message each way over a data channel made in the pc-create hook, and voice both ways (an audio
 * source added in the hook, the remote track read as PCM).
 * Usage: smoke SIGNALING_URL [CA_PEM_FILE] (the CA of an https:// server, put in the config JSON
 * as socket.caCertificatesPem). Exit code 0 and "c smoke: ok" on success. P2P_SMOKE_TIME_FACTOR (default 1) stretches every
 * timeout, for runs under valgrind (20-50x slower). */
#include "webrtc_p2p.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *name;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int result_status;
    int have_result;
    char result_json[4096];
    int dc;
    int open;
    char received[256];
    int32_t source;
    int32_t track;
} peer;

static int time_factor = 1;

static void signal_peer(peer *p) { pthread_cond_broadcast(&p->cv); }

static int wait_for(peer *p, int *flag, int seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)seconds * time_factor;
    pthread_mutex_lock(&p->mu);
    while (!*flag) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) != 0) break;
    }
    int ok = *flag;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static void on_result(void *ud, int32_t request, int32_t status, const char *json) {
    peer *p = ud;
    (void)request;
    pthread_mutex_lock(&p->mu);
    p->result_status = status;
    snprintf(p->result_json, sizeof p->result_json, "%s", json);
    p->have_result = 1;
    signal_peer(p);
    pthread_mutex_unlock(&p->mu);
}

static void on_open(void *ud, int32_t dc) {
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    p->dc = dc;
    p->open = 1;
    signal_peer(p);
    pthread_mutex_unlock(&p->mu);
}

static void on_message(void *ud, int32_t dc, const uint8_t *data, int32_t len, bool is_text) {
    peer *p = ud;
    (void)dc;
    if (!is_text || len >= (int32_t)sizeof p->received) return;
    pthread_mutex_lock(&p->mu);
    memcpy(p->received, data, (size_t)len);
    p->received[len] = 0;
    signal_peer(p);
    pthread_mutex_unlock(&p->mu);
}

static void on_remote_dc(void *ud, int32_t dc) { p2p_dc_set_callbacks(dc, on_open, NULL, on_message, ud); }

static void on_track(void *ud, int32_t pc, int32_t track) {
    peer *p = ud;
    (void)pc;
    pthread_mutex_lock(&p->mu);
    p->track = track;
    signal_peer(p);
    pthread_mutex_unlock(&p->mu);
}

static void on_pc_create(void *ud, int32_t client, const char *peer_id, bool is_offer, int32_t pc) {
    peer *p = ud;
    (void)client;
    (void)peer_id;
    if (p2p_pc_add_audio_source(pc, p->source) != P2P_OK) { fprintf(stderr, "add audio source failed\n"); exit(3); }
    if (p2p_pc_set_track_callback(pc, on_track, ud) != P2P_OK) { fprintf(stderr, "track callback failed\n"); exit(3); }
    if (is_offer) {
        int32_t dc = p2p_pc_create_data_channel(pc, "chat", NULL);
        if (dc <= 0) { fprintf(stderr, "create dc failed: %d\n", dc); exit(3); }
        p2p_dc_set_callbacks(dc, on_open, NULL, on_message, ud);
    } else {
        p2p_pc_set_data_channel_callback(pc, on_remote_dc, ud);
    }
}

/* The PEM text of `path` as the body of a JSON string (PEM needs only its line breaks escaped),
 * or "" without a file. The caller frees it. */
static char *pem_json(const char *path) {
    if (!path) return calloc(1, 1);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *out = malloc(2 * (size_t)size + 1); /* every byte a line break at worst */
    if (!out) exit(2);
    size_t len = 0;
    for (int c; (c = fgetc(f)) != EOF;) {
        if (c == '\n') { out[len++] = '\\'; out[len++] = 'n'; }
        else if (c != '\r') out[len++] = (char)c;
    }
    out[len] = 0;
    fclose(f);
    return out;
}

static int32_t make_client(const char *url, const char *ca_file, peer *p) {
    char *ca = pem_json(ca_file);
    size_t size = strlen(url) + strlen(ca) + 256;
    char *config = malloc(size);
    if (!config) exit(2);
    snprintf(config, size,
             "{\"signalingUrl\":\"%s\",\"bindAddresses\":[\"127.0.0.1:0\"],\"p2pTimeoutMs\":%d,"
             "\"socket\":{\"connectionTimeoutMs\":%d%s%s%s}}",
             url, 20000 * time_factor, 5000 * time_factor, ca_file ? ",\"caCertificatesPem\":\"" : "", ca,
             ca_file ? "\"" : "");
    free(ca);
    int32_t c = p2p_client_create(config);
    free(config);
    if (c <= 0) {
        char err[256];
        p2p_get_last_error(err, sizeof err);
        fprintf(stderr, "%s: create failed: %d %s\n", p->name, c, err);
        exit(2);
    }
    p2p_client_add_pc_create_hook(c, on_pc_create, p);
    return c;
}

static void init_peer(peer *p, const char *name) {
    memset(p, 0, sizeof *p);
    p->name = name;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
}

static int received_is(peer *p, const char *want, int seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)seconds * time_factor;
    pthread_mutex_lock(&p->mu);
    while (strcmp(p->received, want) != 0) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) != 0) break;
    }
    int ok = strcmp(p->received, want) == 0;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

/* A triangle wave (no libm needed) of `hz` at `rate`, continuing from sample *n. */
static void triangle(float *out, int count, int rate, int hz, long *n) {
    int period = rate / hz;
    for (int i = 0; i < count; i++, (*n)++) {
        int k = (int)(*n % period);
        out[i] = 0.5f * (k < period / 2 ? (4.0f * k / period - 1.0f) : (3.0f - 4.0f * k / period));
    }
}

static int32_t track_of(peer *p) {
    pthread_mutex_lock(&p->mu);
    int32_t t = p->track;
    pthread_mutex_unlock(&p->mu);
    return t;
}

#define CHECK(cond, msg) do { if (!(cond)) { fprintf(stderr, "c smoke: FAILED: %s\n", msg); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) { fprintf(stderr, "usage: smoke SIGNALING_URL [CA_PEM_FILE]\n"); return 2; }
    const char *ca_file = argc == 3 ? argv[2] : NULL;
    const char *factor = getenv("P2P_SMOKE_TIME_FACTOR");
    if (factor && atoi(factor) > 0) time_factor = atoi(factor);
    printf("webrtc_p2p %s\n", p2p_version());
    peer host, guest;
    init_peer(&host, "host");
    init_peer(&guest, "guest");
    host.source = p2p_audio_source_create(48000, 1, 0);
    guest.source = p2p_audio_source_create(16000, 1, 24000);
    CHECK(host.source > 0 && guest.source > 0, "audio sources");
    int32_t h = make_client(argv[1], ca_file, &host);
    int32_t g = make_client(argv[1], ca_file, &guest);

    CHECK(p2p_client_start_host(h, "c room", on_result, &host) > 0, "start_host request");
    int host_ok = wait_for(&host, &host.have_result, 15);
    if (!host_ok || host.result_status != P2P_OK) fprintf(stderr, "start_host: %d %d %s\n", host_ok, host.result_status, host.result_json);
    CHECK(host_ok && host.result_status == P2P_OK, "host started");

    char host_id[128];
    int32_t n = p2p_client_get_id(h, host_id, sizeof host_id);
    CHECK(n > 1 && n <= (int32_t)sizeof host_id, "host id");

    CHECK(p2p_client_start_client(g, host_id, on_result, &guest) > 0, "start_client request");
    CHECK(wait_for(&guest, &guest.have_result, 30) && guest.result_status == P2P_OK, "client started");
    CHECK(wait_for(&host, &host.open, 20) && wait_for(&guest, &guest.open, 20), "channels open");

    CHECK(p2p_dc_send(guest.dc, (const uint8_t *)"hello host", 10, true) == P2P_OK, "send to host");
    CHECK(p2p_dc_send(host.dc, (const uint8_t *)"hello guest", 11, true) == P2P_OK, "send to guest");
    CHECK(received_is(&host, "hello host", 10), "host received");
    CHECK(received_is(&guest, "hello guest", 10), "guest received");

    /* Voice both ways: each pushes 20 ms in real time and reads what arrived, until each has heard
       100 ms of the other (a track is announced with its first packet). */
    {
        float push48[960], push16[320], out[960];
        long n48 = 0, n16 = 0;
        int heard_by_guest = 0, heard_by_host = 0, level = 0;
        for (int i = 0; i < 500 * time_factor && (heard_by_guest < 4800 || heard_by_host < 4800); i++) {
            triangle(push48, 960, 48000, 440, &n48);
            triangle(push16, 320, 16000, 660, &n16);
            CHECK(p2p_audio_source_push(host.source, push48, 960) == P2P_OK, "host push");
            CHECK(p2p_audio_source_push(guest.source, push16, 320) == P2P_OK, "guest push");
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
            if (track_of(&guest) > 0) {
                int32_t got = p2p_track_read_pcm(track_of(&guest), out, 960, 48000, 2);
                CHECK(got >= 0 && got <= 960, "guest reads");
                heard_by_guest += got / 2;
                if (got > 0) {
                    /* The meter covers the last ~100 ms of arrivals: keep its highest reading (under
                       valgrind on a loaded machine a read can come after a gap in arrivals). */
                    int32_t now = p2p_track_get_level(track_of(&guest));
                    CHECK(now >= 0 && now <= 100, "level in range");
                    if (now > level) level = now;
                }
            }
            if (track_of(&host) > 0) {
                int32_t got = p2p_track_read_pcm(track_of(&host), out, 441, 44100, 1);
                CHECK(got >= 0 && got <= 441, "host reads");
                heard_by_host += got;
            }
        }
        CHECK(heard_by_guest >= 4800 && heard_by_host >= 4800, "voice both ways");
        CHECK(level > 0 && level <= 100, "speaking level");
        char stats[1024];
        CHECK(p2p_track_get_stats(track_of(&guest), stats, sizeof stats) > 0 && strstr(stats, "\"packetsReceived\"") != NULL, "track stats");
        CHECK(p2p_track_read_pcm(track_of(&guest), NULL, 960, 48000, 2) == P2P_ERR_INVALID_ARGUMENT, "NULL buffer");
        CHECK(p2p_track_read_pcm(track_of(&guest), out, 960, 0, 2) == P2P_ERR_INVALID_ARGUMENT, "rate 0");
        CHECK(p2p_audio_source_push(h, push48, 960) == P2P_ERR_INVALID_HANDLE, "a client is not a source");
    }

    /* Link stats: ask for the size, then copy the JSON array (one link, to the guest), until the
       link reports connected (its state may trail the channel's open by a moment). */
    int connected = 0;
    for (int i = 0; i < 200 && !connected; i++) {
        int32_t need = p2p_client_get_stats(h, NULL, 0);
        CHECK(need > 2, "stats size");
        char *stats = malloc((size_t)need + 1024);
        CHECK(stats != NULL, "stats buffer");
        int32_t got = p2p_client_get_stats(h, stats, need + 1024);
        CHECK(got > 0 && got <= need + 1024 && stats[0] == '[', "stats JSON");
        connected = strstr(stats, "\"connectionState\":\"connected\"") != NULL;
        free(stats);
        if (!connected) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    CHECK(connected, "stats of the link");
    CHECK(p2p_pc_get_stats(-1, NULL, 0) == P2P_ERR_INVALID_HANDLE, "stats of a bad handle");
    CHECK(p2p_dc_send(-1, NULL, 0, false) == P2P_ERR_INVALID_HANDLE, "bad handle rejected");
    CHECK(p2p_client_destroy(g) == P2P_OK && p2p_client_destroy(h) == P2P_OK, "destroy");
    CHECK(p2p_audio_source_destroy(host.source) == P2P_OK && p2p_audio_source_destroy(guest.source) == P2P_OK, "destroy sources");
    CHECK(p2p_shutdown() == P2P_OK, "shutdown");
    printf("c smoke: ok\n");
    return 0;
}
