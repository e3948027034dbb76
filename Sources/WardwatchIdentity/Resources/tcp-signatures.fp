; Wardwatch's additions to the p0f v3 TCP signature database, in p0f.fp syntax (p0f 3.09b README, section 5).
; Sources are given per label. Debian's /etc/p0f/p0f.fp (package p0f) is read at run time where installed; it is not
; copied here.

[tcp:request]

; lwIP, the lightweight TCP/IP stack of many embedded Wi-Fi modules (Espressif ESP8266/ESP32 SDKs): MSS 1460, window
; a small multiple of the MSS, options mss only, no timestamps. Source: wardwatch heuristic from lwIP's defaults
; (TCP_MSS 1460, TCP_WND 4*TCP_MSS in lwipopts of the ESP SDKs); verify against captures.
label = s:other:lwIP:embedded
sig   = *:255:0:1460:mss*4,0:mss::0
sig   = *:255:0:1460:mss*2,0:mss::0
sig   = *:64:0:1460:mss*4,0:mss::0
sig   = *:64:0:1460:mss*2,0:mss::0

; Windows 10 and 11 (p0f 3.09b predates them; its "Windows 7 or 8" label covers the same layout). Source: wardwatch
; heuristic from public SYN captures: ittl 128, window 64240 or 65535, mss,nop,ws,nop,nop,sok.
label = s:win:Windows:10 or 11
sig   = *:128:0:*:64240,8:mss,nop,ws,nop,nop,sok:df,id+:0
sig   = *:128:0:*:65535,8:mss,nop,ws,nop,nop,sok:df,id+:0

[tcp:response]
