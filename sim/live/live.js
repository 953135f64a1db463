/* the live page: see live_page.html */
