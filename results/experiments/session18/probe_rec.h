typedef struct probe_rec {
    long ncost, ncost_after[2];
    float c0, c1, full[2], first_cost[2], first_score[2], second_score[2], same_score;
} probe_rec;
extern probe_rec g_rec;
