/* paint.h: stack depth by painting, for the firmware test (main.c) and the size firmware
 * (size.c). Paints the free stack below the caller's frame (down to the heap, with a margin),
 * runs `fn`, and returns how many bytes below the caller's stack pointer it touched. */
#ifndef APISIG_FIRMWARE_PAINT_H
#define APISIG_FIRMWARE_PAINT_H
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#define PAINT 0xa5a5a5a5u

static inline uint32_t *sp_now(void) {
    uint32_t *sp;
#ifdef __riscv
    __asm__ volatile("mv %0, sp" : "=r"(sp));
#else
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#endif
    return sp;
}

static size_t __attribute__((noinline)) stack_depth(void (*fn)(void)) {
    uint32_t *top = sp_now() - 16; /* leave this frame alone */
    uint32_t *bottom = (uint32_t *)sbrk(0) + 256;
    uint32_t *p;
    for (p = bottom; p < top; p++) *p = PAINT;
    fn();
    for (p = bottom; p < top && *p == PAINT; p++) {
    }
    return (size_t)((uint8_t *)top - (uint8_t *)p);
}

#endif
